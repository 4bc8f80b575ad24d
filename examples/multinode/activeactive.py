"""The fake backend of examples/openstack, allowed in an active/active cluster, and reporting
its own volume_backend_name (the fake driver says "fake" for every backend, so a volume type
could not choose one).

Cinder refuses to start a clustered backend whose driver does not declare that it can be
served from several hosts at once (`SUPPORTS_ACTIVE_ACTIVE`, cinder/volume/manager.py).  The
fake driver keeps no data, so any host of the cluster can serve any of its volumes; a real
driver says so only for storage that every host of the cluster reaches (Ceph, a SAN).
"""

from cinder.tests.fake_driver import FakeLoggingVolumeDriver


class ActiveActiveFakeDriver(FakeLoggingVolumeDriver):
    SUPPORTS_ACTIVE_ACTIVE = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.backend_name = self.configuration.safe_get("volume_backend_name") or "fake"
