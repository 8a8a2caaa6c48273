"""Serializer pieces shared by the tenant API views."""

import copy
from functools import cache
from typing import Any

from rest_framework import serializers

from resale.money import InvalidMoney, amount_normalize, currency_validate


def _fresh_field(field: serializers.Field) -> serializers.Field:
    """An unbound copy of a declared field that shares only what DRF never changes after init.

    DRF deep-copies every declared field for each serializer instance, which re-runs each
    field's ``__init__`` (validators and all): a tenth of the API server's CPU on a listing
    write. A shallow copy has its own ``__dict__``, so binding it (``field_name``, ``parent``,
    ``source_attrs``) touches nothing shared; a list or dict field's child is copied the same
    way and re-parented to the copy; a nested serializer keeps DRF's deep copy.
    """
    if isinstance(field, serializers.BaseSerializer):
        return copy.deepcopy(field)
    fresh = copy.copy(field)
    child = getattr(field, "child", None)
    if isinstance(child, serializers.Field):
        fresh.child = _fresh_field(child)
        fresh.child.parent = fresh  # the rest of the child's binding was done once, in the field's init
    return fresh


class RequestSerializer(serializers.Serializer):
    """The base of the tenant API's input serializers: fields copied cheaply per request."""

    def get_fields(self) -> dict[str, serializers.Field]:
        return {name: _fresh_field(field) for name, field in self._declared_fields.items()}


@cache
def _output_serializer(serializer_class: type[serializers.Serializer]) -> serializers.Serializer:
    return serializer_class()


def represent(serializer_class: type[serializers.Serializer], instance: Any) -> dict:
    """``serializer_class(instance).data``, through one instance per class kept for the process.

    A new serializer deep-copies every declared field, a fifth of a read's CPU in the API; an
    output serializer keeps no state between calls of ``to_representation``, so one instance
    serves every request and thread.
    """
    return _output_serializer(serializer_class).to_representation(instance)


def map_as_dict(value: Any) -> dict:
    """A PynamoDB raw MapAttribute (as read back) or a plain dict (as just written), as a dict."""
    if value is None:
        return {}
    return value.as_dict() if hasattr(value, "as_dict") else dict(value)


def validate_money(attrs: dict, *, price_field: str = "price", currency_field: str = "currency") -> dict:
    errors = {}
    currency = attrs.get(currency_field)
    if currency is not None:
        try:
            currency_validate(currency)
        except InvalidMoney as exc:
            errors[currency_field] = [str(exc)]
    if attrs.get(price_field) is not None and currency is not None and not errors:
        try:
            amount_normalize(attrs[price_field], currency)
        except InvalidMoney as exc:
            errors[price_field] = [str(exc)]
    if errors:
        raise serializers.ValidationError(errors)
    return attrs
