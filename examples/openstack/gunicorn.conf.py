"""cinder-api under gunicorn: Cinder's own WSGI module, unmodified.

The bind address and worker count are on services.toml's command line."""

import sys

wsgi_app = "cinder.wsgi.api:application"


def post_fork(server, worker):
    # Cinder's module parses sys.argv as its own command line when a worker imports it;
    # gunicorn's arguments would be refused, so the worker sees Cinder's instead.
    sys.argv[1:] = ["--config-file", "cinder.conf"]
