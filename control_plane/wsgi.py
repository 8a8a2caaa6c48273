import gc
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "platform"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "control_plane.settings")

from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.urls import get_resolver  # noqa: E402

from httpkit.metrics_files import mark_dead_workers  # noqa: E402
from httpkit.unread_body import UnreadBodyMiddleware  # noqa: E402

application = UnreadBodyMiddleware(get_wsgi_application())

if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    mark_dead_workers(os.environ["PROMETHEUS_MULTIPROC_DIR"])

# The modules, views and settings loaded here live as long as the process. Imported now rather
# than on the first request, then frozen out of the garbage collector's sight, they are no longer
# walked by every full collection: that walk was a twentieth of a listing create's CPU.
get_resolver().url_patterns  # noqa: B018 - imports every view, serializer and model
gc.freeze()
