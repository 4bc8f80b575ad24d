"""The fake backend of examples/openstack, allowed in an active/active cluster.

Cinder refuses to start a clustered backend whose driver does not declare that it can be
served from several hosts at once (`SUPPORTS_ACTIVE_ACTIVE`, cinder/volume/manager.py).  The
fake driver keeps no data, so any host of the cluster can serve any of its volumes; a real
driver says so only for storage that every host of the cluster reaches (Ceph, a SAN).
"""

from cinder.tests.fake_driver import FakeLoggingVolumeDriver


class ActiveActiveFakeDriver(FakeLoggingVolumeDriver):
    SUPPORTS_ACTIVE_ACTIVE = True
