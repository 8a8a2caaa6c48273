"""Serializer pieces shared by the tenant API views."""

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache, partial
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.core.validators import (
    MaxLengthValidator,
    MinLengthValidator,
    ProhibitNullCharactersValidator,
    RegexValidator,
)
from django.db.models.manager import BaseManager
from rest_framework import serializers
from rest_framework.fields import ProhibitSurrogateCharactersValidator, _UnvalidatedField, empty

from httpkit.openapi_request_rules import OPENAPI_STYLE
from resale.money import CURRENCIES, InvalidMoney, amount_normalize, currency_validate

CURSOR_PATTERN = r"^[A-Za-z0-9_.:-]+$"
"""Every cursor the API gives out is URL-safe base64 text, signed or not: opaque to clients."""
AMOUNT_PATTERN = (
    r"^(?:[1-9][0-9]{0,8}(?:\.[0-9]{1,4})?"
    r"|0\.(?:[1-9][0-9]{0,3}|0[1-9][0-9]{0,2}|00[1-9][0-9]?|000[1-9]))$"
)
"""A positive decimal string below 1,000,000,000 with at most 4 decimals, the most any ISO 4217
currency has; the currency's own number of decimals is checked with it (``validate_money``)."""


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


_PLAIN_CHAR_VALIDATORS = (
    MaxLengthValidator,
    MinLengthValidator,
    ProhibitNullCharactersValidator,
    ProhibitSurrogateCharactersValidator,
)


@dataclass(frozen=True, slots=True)
class _PlainField:
    """A declared ``CharField`` or unvalidated ``DictField`` with nothing custom about it."""

    name: str
    is_text: bool
    required: bool
    default: Any
    allow_blank: bool = False
    trim_whitespace: bool = True
    min_length: int | None = None
    max_length: int | None = None


def _plain_field(name: str, field: serializers.Field) -> _PlainField | None:
    if field.read_only or field.source not in (None, name):
        return None
    if getattr(field.default, "requires_context", False):
        return None
    common = {"name": name, "required": field.required, "default": field.default}
    if type(field) is serializers.CharField:
        if not all(isinstance(validator, _PLAIN_CHAR_VALIDATORS) for validator in field.validators):
            return None
        return _PlainField(
            is_text=True,
            allow_blank=field.allow_blank,
            trim_whitespace=field.trim_whitespace,
            min_length=field.min_length,
            max_length=field.max_length,
            **common,
        )
    if type(field) is serializers.DictField and type(field.child) is _UnvalidatedField:
        if not field.allow_empty or field.validators:
            return None
        return _PlainField(is_text=False, **common)
    return None


@cache
def _plain_fields(serializer_class: type[serializers.Serializer]) -> tuple[_PlainField, ...] | None:
    """The fields of a serializer that ``_plain_validated`` can check, or None where DRF must.

    Only classes whose every field is plain, with no ``validate_<field>`` method, no serializer-level
    validators and DRF's own ``to_internal_value``, qualify; ``validate`` may be overridden.
    """
    meta = getattr(serializer_class, "Meta", None)
    if getattr(meta, "validators", None) or serializer_class.to_internal_value is not (
        serializers.Serializer.to_internal_value
    ):
        return None
    plain = []
    for name, field in serializer_class._declared_fields.items():
        if hasattr(serializer_class, f"validate_{name}"):
            return None
        described = _plain_field(name, field)
        if described is None:
            return None
        plain.append(described)
    return tuple(plain)


def _plain_text(field: _PlainField, value: Any) -> str | None:
    if type(value) is not str:
        return None  # numbers are coerced to text by DRF; rare enough to leave to it
    text = value.strip() if field.trim_whitespace else value
    if not text:
        return "" if field.allow_blank else None
    if field.max_length is not None and len(text) > field.max_length:
        return None
    if field.min_length is not None and len(text) < field.min_length:
        return None
    if "\x00" in text:
        return None
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate, which DRF refuses
            return None
    return text


def _plain_validated(fields: tuple[_PlainField, ...], data: Any) -> dict[str, Any] | None:
    """What DRF's field validation returns for ``data``, when every value is plainly valid; None
    whenever DRF would fail, coerce or do anything this does not, so that DRF answers instead."""
    if type(data) is not dict:
        return None
    validated = {}
    for field in fields:
        value = data.get(field.name, empty)
        if value is empty:
            if field.required:
                return None
            if field.default is not empty:
                validated[field.name] = field.default() if callable(field.default) else field.default
            continue
        if field.is_text:
            value = _plain_text(field, value)
            if value is None:
                return None
        elif type(value) is dict:
            value = dict(value)
        else:
            return None
        validated[field.name] = value
    return validated


class RequestSerializer(serializers.Serializer):
    """The base of the tenant API's input serializers: fields copied cheaply per request, and a
    plainly valid JSON body checked without DRF's per-field machinery.

    DRF validates a listing create through some 80 calls per field (empty-value checks, three
    validators a text field, error wrappers): a tenth of the create's CPU in the API server. A body
    whose every value is plainly valid for plain fields gets the same validated data from
    ``_plain_validated``; anything else (an error, a coercion, a custom field) goes through DRF,
    so every error is DRF's own. ``tests/resale/api/test_request_serializer.py`` pins the two
    together on generated bodies for every input serializer of the API.
    """

    def get_fields(self) -> dict[str, serializers.Field]:
        return {name: _fresh_field(field) for name, field in self._declared_fields.items()}

    def is_valid(self, *, raise_exception: bool = False) -> bool:
        fields = None if self.partial else _plain_fields(type(self))
        attrs = _plain_validated(fields, getattr(self, "initial_data", None)) if fields else None
        if attrs is not None and not hasattr(self, "_validated_data"):
            try:
                self._validated_data = self.validate(attrs)
            except serializers.ValidationError:
                pass  # DRF's path below reports it, in its own shape
            else:
                self._errors = {}
                return True
        return super().is_valid(raise_exception=raise_exception)


@cache
def _output_serializer(serializer_class: type[serializers.Serializer]) -> serializers.Serializer:
    return serializer_class()


class _LeaveToDrf(Exception):
    """An instance ``_plain_represented`` does not answer for: DRF's own path does, in full."""


_Plan = tuple[tuple[str, str | None, Callable[[Any], Any]], ...]
"""Per readable field: its name, the attribute or key it reads (None: the whole instance, as a
``SerializerMethodField`` does) and what turns a value that is not None into its representation."""


def _plain_plan(serializer: serializers.BaseSerializer) -> _Plan | None:
    """How ``_plain_represented`` represents what ``serializer`` does, or None where only DRF can:
    DRF's own ``to_representation``, and every readable field a plain ``CharField`` or
    ``IntegerField`` reading one attribute, a ``SerializerMethodField``, or a nested serializer (one
    or many) that is itself plain."""
    if type(serializer).to_representation is not serializers.Serializer.to_representation:
        return None
    plan = []
    for field in serializer._readable_fields:
        if type(field) is serializers.SerializerMethodField:
            plan.append((field.field_name, None, getattr(serializer, field.method_name)))
            continue
        if len(field.source_attrs) != 1:
            return None
        if type(field) is serializers.CharField:
            convert = str
        elif type(field) is serializers.IntegerField:
            convert = int
        elif type(field) is serializers.ListSerializer and (child := _plain_plan(field.child)):
            convert = partial(_plain_list, child)
        elif isinstance(field, serializers.Serializer) and (nested := _plain_plan(field)):
            convert = partial(_plain_represented, nested)
        else:
            return None
        plan.append((field.field_name, field.source_attrs[0], convert))
    return tuple(plan)


def _plain_represented(plan: _Plan, instance: Any) -> dict:
    """What DRF's ``Serializer.to_representation`` gives for ``instance``; ``_LeaveToDrf`` where
    DRF would do more than read and convert (a missing attribute: a default, a skip or an error;
    a callable it would call)."""
    is_mapping = type(instance) is dict or isinstance(instance, Mapping)
    represented = {}
    for name, source, convert in plan:
        if source is None:
            value = instance
        else:
            try:
                value = instance[source] if is_mapping else getattr(instance, source)
            except (KeyError, AttributeError, ObjectDoesNotExist):
                raise _LeaveToDrf from None
            if callable(value):
                raise _LeaveToDrf
        represented[name] = None if value is None else convert(value)
    return represented


def _plain_list(plan: _Plan, items: Any) -> list[dict]:
    if isinstance(items, BaseManager):
        raise _LeaveToDrf
    return [_plain_represented(plan, item) for item in items]


@cache
def _output_plan(serializer_class: type[serializers.Serializer]) -> _Plan | None:
    return _plain_plan(_output_serializer(serializer_class))


def represent(serializer_class: type[serializers.Serializer], instance: Any) -> dict:
    """``serializer_class(instance).data``, through one instance per class kept for the process.

    A new serializer deep-copies every declared field, a fifth of a read's CPU in the API; an
    output serializer keeps no state between calls of ``to_representation``, so one instance
    serves every request and thread. Where its fields are plain (``_plain_plan``), the fields are
    read and converted without DRF's per-field calls (lookups, ``Mapping`` checks, callable
    checks): 6.8 µs for a listing instead of 12.2. Anything else takes DRF's own path, so every
    default, skip and error is DRF's; ``tests/resale/api/test_represent.py`` pins the two together
    on generated instances for every output serializer of the API.
    """
    plan = _output_plan(serializer_class)
    if plan is not None:
        try:
            return _plain_represented(plan, instance)
        except _LeaveToDrf:
            pass
    return _output_serializer(serializer_class).to_representation(instance)


def cursor_field(**kwargs) -> serializers.CharField:
    """``?cursor=``: the ``next_cursor`` of the previous page, as it was given out."""
    kwargs.setdefault("help_text", "The next_cursor of the previous page, as given.")
    return serializers.CharField(
        required=False,
        max_length=4096,
        validators=[RegexValidator(CURSOR_PATTERN, message="not a cursor this API gave out")],
        **kwargs,
    )


def amount_field(**kwargs) -> serializers.CharField:
    """A money amount: a plain text field (so ``RequestSerializer``'s plain path keeps checking the
    body), its form stated to OpenAPI only; ``validate_money`` checks it with its currency."""
    return serializers.CharField(
        max_length=32,
        help_text="A decimal string with at most the currency's decimals (ISO 4217: JPY 0, EUR 2, BHD 3).",
        style={OPENAPI_STYLE: {"pattern": AMOUNT_PATTERN}},
        **kwargs,
    )


def currency_field(**kwargs) -> serializers.CharField:
    """An ISO 4217 currency code, as ``amount_field``: stated to OpenAPI, checked by ``validate_money``."""
    return serializers.CharField(
        max_length=3, min_length=3, style={OPENAPI_STYLE: {"enum": sorted(CURRENCIES)}}, **kwargs
    )


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
