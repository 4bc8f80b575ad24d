"""cinder-api under gunicorn: Cinder's own WSGI module, unmodified.

The bind address and worker count are on services.toml's command line."""

import sys

wsgi_app = "cinder.wsgi.api:application"
# Seconds a worker may spend on one request before gunicorn kills it (its default: 30).  A
# create sent while RabbitMQ is away waits in the worker until the restarted broker takes its
# cast: 25 s measured on a loaded 2-core machine (docs/guides/real-cinder.md), and a worker
# killed then would leave its volume `creating` for good.
timeout = 120


def post_fork(server, worker):
    # Cinder's module parses sys.argv as its own command line when a worker imports it;
    # gunicorn's arguments would be refused, so the worker sees Cinder's instead.
    sys.argv[1:] = ["--config-file", "cinder.conf"]
