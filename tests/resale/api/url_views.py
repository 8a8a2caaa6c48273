"""The view classes the URL conf routes to, for tests that check something of every view."""

from django.urls import get_resolver


def routed_view_classes() -> list[type]:
    """Every class-based view of the URL conf, each once."""
    found: dict[type, None] = {}

    def walk(patterns):
        for pattern in patterns:
            if hasattr(pattern, "url_patterns"):
                walk(pattern.url_patterns)
                continue
            view = getattr(pattern.callback, "cls", None)
            if view is not None:
                found[view] = None

    walk(get_resolver().url_patterns)
    return list(found)
