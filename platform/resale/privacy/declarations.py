"""What each attribute of a tenant table is, declared next to the attribute where it is defined.

- ``ordinary``: business data, kept wherever the item goes (history, webhooks, search, reports).
- ``personal``: a person's data. The history keeps it only as ciphertext under the key of the
  item's data subject (the attribute the model names in ``Meta.data_subject``), so destroying
  that key erases it everywhere the history was copied (``resale.privacy.keys``); webhooks,
  which go to the tenant's own integrations, carry it in clear. An item with no data subject
  keeps none of its personal attributes.
- ``secret``: payment tokens, their fingerprints, idempotency secrets: never leave the live item.

Keeping is an allow-list: ``keepable_image`` copies only declared attributes, so an attribute
added to an item without a declaration (or written by something other than its model) is
dropped, and ``undeclared_attributes`` lets a test fail on any model attribute left undeclared.
"""

from collections.abc import Callable
from enum import StrEnum
from typing import Any, TypeVar

from pynamodb.attributes import Attribute, ListAttribute, MapAttribute

ERASED = "[erased]"

A = TypeVar("A", bound=Attribute)


class Privacy(StrEnum):
    ORDINARY = "ordinary"
    PERSONAL = "personal"
    SECRET = "secret"


def _declare(attribute: A, privacy: Privacy) -> A:
    # object's own setattr: a raw MapAttribute would take the name as one of its map keys.
    object.__setattr__(attribute, "privacy", privacy)
    return attribute


def ordinary(attribute: A) -> A:
    return _declare(attribute, Privacy.ORDINARY)


def personal(attribute: A) -> A:
    return _declare(attribute, Privacy.PERSONAL)


def secret(attribute: A) -> A:
    return _declare(attribute, Privacy.SECRET)


def privacy_of(attribute: Attribute) -> Privacy | None:
    return vars(attribute).get("privacy")


def _typed_map(attribute: Attribute) -> type[MapAttribute] | None:
    """The declared map class an attribute holds (itself or its list's elements), if it has one."""
    if isinstance(attribute, ListAttribute):
        element = attribute.element_type
        return element if isinstance(element, type) and issubclass(element, MapAttribute) else None
    if type(attribute) is not MapAttribute and isinstance(attribute, MapAttribute):
        return type(attribute)
    return None


def undeclared_attributes(schema: type) -> list[str]:
    """The attributes of a model or map class (and of the maps it nests) with no declaration."""
    missing = []
    for name, attribute in schema.get_attributes().items():
        if privacy_of(attribute) is None:
            missing.append(f"{schema.__name__}.{name}")
        nested = _typed_map(attribute)
        if nested is not None:
            missing.extend(undeclared_attributes(nested))
    return missing


def data_subject_of(schema: type, image: dict[str, Any]) -> str | None:
    """The value of the attribute naming whose personal data the item holds, if the schema has one."""
    name = getattr(getattr(schema, "Meta", None), "data_subject", None)
    if name is None:
        return None
    value = image.get(schema.get_attributes()[name].attr_name)
    return value if isinstance(value, str) and value else None


PersonalValue = Callable[[str, Any], Any]
"""What a personal attribute becomes where it is kept: (attribute name, value) -> kept value."""


def in_clear(name: str, value: Any) -> Any:
    """Personal data kept as it is: for what goes to the tenant's own systems (webhooks)."""
    return value


def _keep_ordinary(attribute: Attribute, value: Any) -> Any:
    nested = _typed_map(attribute)
    if nested is None:
        return value
    if isinstance(attribute, ListAttribute):
        return [_keep(nested, item, None) if isinstance(item, dict) else item for item in value or []]
    return _keep(nested, value, None) if isinstance(value, dict) else value


def _keep(schema: type, image: dict[str, Any], personal_value: PersonalValue | None) -> dict[str, Any]:
    kept = {}
    for name, attribute in schema.get_attributes().items():
        if attribute.attr_name not in image:
            continue
        value = image[attribute.attr_name]
        privacy = privacy_of(attribute)
        if privacy == Privacy.ORDINARY:
            kept[attribute.attr_name] = _keep_ordinary(attribute, value)
        elif privacy == Privacy.PERSONAL and personal_value is not None:
            kept[attribute.attr_name] = personal_value(name, value)
    return kept


def keepable_image(
    schema: type, image: dict[str, Any] | None, *, personal_value: PersonalValue | None = None
) -> dict[str, Any] | None:
    """A copy of an item image holding only what its schema declares keepable.

    Ordinary attributes are copied; personal ones become ``personal_value(name, value)`` (omitted
    without one); secrets and undeclared attributes are left out.
    """
    if image is None:
        return None
    return _keep(schema, image, personal_value)
