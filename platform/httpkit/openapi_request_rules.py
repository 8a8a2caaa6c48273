"""The OpenAPI schema class of both APIs: drf-spectacular's, stating two input rules DRF keeps
that its document leaves out, so that a client generated from the document sends what the
views accept.

- A ``CharField`` trims whitespace, then refuses a blank value and any NUL character: a request
  string must hold a character that is neither whitespace (as Python's ``str.strip`` counts it,
  which ECMA's ``\\s`` does not fully cover) nor NUL, and no NUL anywhere.
- A ``DecimalField`` read from a string needs a digit, and refuses a minus sign when its
  ``min_value`` is 0 or more; drf-spectacular's decimal pattern allows ``"."`` and ``"-1"``.

A field whose rule is checked elsewhere (a serializer's ``validate``) states it with schema
keywords in ``style["openapi"]``; they are added to its schema as given.
"""

from django.core.validators import RegexValidator
from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers

OPENAPI_STYLE = "openapi"
"""A field's ``style`` entry of schema keywords, for a rule checked outside the field."""
NOT_BLANK_PATTERN = r"^[^\u0000]*[^\s\u0000\u001c-\u001f\u0085][^\u0000]*$"


def _states_its_own_form(field: serializers.Field, schema: dict) -> bool:
    return bool({"pattern", "format", "enum"} & set(schema)) or any(
        isinstance(validator, RegexValidator) for validator in field.validators
    )


def _decimal_pattern(field: serializers.DecimalField) -> str:
    """Digits, a point and digits, with one digit at least, within the field's digits."""
    whole = f"[0-9]{{1,{field.max_whole_digits}}}" if field.max_whole_digits else "[0-9]+"
    fraction = f"[0-9]{{1,{field.decimal_places}}}" if field.decimal_places else "[0-9]+"
    sign = "" if field.min_value is not None and field.min_value >= 0 else "-?"
    return rf"^{sign}(?:{whole}(?:\.{fraction})?|\.{fraction})$"


class RequestRulesSchema(AutoSchema):
    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if direction != "request":
            return schema
        schema.update(field.style.get(OPENAPI_STYLE, {}))
        if schema.get("type") != "string":
            return schema
        if (
            type(field) is serializers.CharField
            and field.trim_whitespace
            and not field.allow_blank
            and not _states_its_own_form(field, schema)
        ):
            schema["pattern"] = NOT_BLANK_PATTERN
        if isinstance(field, serializers.DecimalField) and schema.get("format") == "decimal":
            schema["pattern"] = _decimal_pattern(field)
        return schema
