import os

from celery import Celery
from celery.signals import celeryd_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "control_plane.settings")

app = Celery("control_plane")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.autodiscover_tasks(["resale.orders"])

BROKER_SOCKET_TIMEOUTS = ("socket_timeout", "socket_connect_timeout")


@celeryd_init.connect
def consume_without_socket_timeouts(conf, **kwargs) -> None:
    """A worker waits on a stalled Redis rather than giving up on it. The socket timeouts bound what a
    stalled Redis costs a request that publishes; in a worker, an acknowledgement cut short by one
    left kombu's consumer waiting for ever on a connection it no longer read
    (``tests/faults/test_broker_stall.py``), so no task ran again after Redis came back."""
    options = conf.broker_transport_options
    conf.broker_transport_options = {k: v for k, v in options.items() if k not in BROKER_SOCKET_TIMEOUTS}
