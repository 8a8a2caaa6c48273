import json

from django import template

register = template.Library()


@register.filter
def pretty_json(value: object) -> str:
    """A JSON value indented for a <pre> block (escaped by the template as usual)."""
    return json.dumps(value, indent=2, sort_keys=True, default=str)
