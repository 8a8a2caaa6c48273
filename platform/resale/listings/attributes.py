"""A tenant's own data model for listings: ``attributes`` checked against its JSON Schema.

Only tiers with the ``custom_attribute_schema`` feature have their schema enforced; validators
are compiled once per schema and reused.

Regular expressions (``pattern``, ``patternProperties``, and ``additionalProperties`` beside
them) run on RE2, which matches in time linear in the input: jsonschema's own keywords run
Python's backtracking ``re`` while holding the GIL, and ``^(a+)+$`` against 20 ``a`` and a ``!``
took 34 ms there, doubling with each further character, freezing every thread of the process.
A schema RE2 cannot run (backreferences, lookarounds) is refused when it is saved, as is
``unevaluatedProperties`` beside ``patternProperties`` (jsonschema matches those with ``re``
itself). With attributes capped at ``MAX_ATTRIBUTES_BYTES`` and schemas at
``MAX_SCHEMA_BYTES``, one validation is bounded by their product.
"""

import json
from collections.abc import Iterator
from decimal import Decimal
from functools import lru_cache
from typing import Any

import re2
from jsonschema import Draft202012Validator, ValidationError, validators
from jsonschema.exceptions import SchemaError

from resale.listings.errors import InvalidAttributes
from resale.tenancy import TenantRoute

MAX_ATTRIBUTES_BYTES = 16 * 1024
MAX_SCHEMA_BYTES = 64 * 1024
NUMBER_MIN_MAGNITUDE = Decimal("1E-130")
NUMBER_MAX_MAGNITUDE = Decimal("1E126")
NUMBER_MAX_DIGITS = 38
_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False
_NOT_SCHEMAS = frozenset({"const", "enum", "default", "examples"})
"""Keywords whose values are instance data, not subschemas: a "pattern" key inside them is data."""


class UnsupportedSchema(ValueError):
    """A valid JSON Schema this platform will not run: the message says what to change."""


@lru_cache(maxsize=4096)
def _regex(pattern: str):
    return re2.compile(pattern, _RE2_OPTIONS)


def _pattern(validator, pattern: str, instance: Any, schema: dict) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string") and not _regex(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _pattern_properties(validator, patterns: dict, instance: Any, schema: dict) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in patterns.items():
        for name, value in instance.items():
            if _regex(pattern).search(name):
                yield from validator.descend(value, subschema, path=name, schema_path=pattern)


def _additional_properties(validator, additional, instance: Any, schema: dict) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    declared = schema.get("properties", {})
    patterns = [_regex(pattern) for pattern in schema.get("patternProperties", {})]
    extras = sorted(
        name
        for name in instance
        if name not in declared and not any(regex.search(name) for regex in patterns)
    )
    if validator.is_type(additional, "object"):
        for name in extras:
            yield from validator.descend(instance[name], additional, path=name)
    elif not additional and extras:
        yield ValidationError(f"Additional properties are not allowed ({', '.join(map(repr, extras))})")


AttributesValidator = validators.extend(
    Draft202012Validator,
    {
        "pattern": _pattern,
        "patternProperties": _pattern_properties,
        "additionalProperties": _additional_properties,
    },
)


def _walk(schema: Any) -> Iterator[dict]:
    """Every schema object inside ``schema``, itself included."""
    if isinstance(schema, dict):
        yield schema
        for keyword, value in schema.items():
            if keyword not in _NOT_SCHEMAS:
                yield from _walk(value)
    elif isinstance(schema, list):
        for value in schema:
            yield from _walk(value)


def attribute_schema_check_runnable(schema: dict) -> None:
    """Raises ``UnsupportedSchema`` for a schema too big, or with a regex RE2 cannot run."""
    if len(json.dumps(schema)) > MAX_SCHEMA_BYTES:
        raise UnsupportedSchema(f"The schema is limited to {MAX_SCHEMA_BYTES} bytes of JSON.")
    has_pattern_properties = has_unevaluated_properties = False
    for node in _walk(schema):
        patterns = [node["pattern"]] if isinstance(node.get("pattern"), str) else []
        if isinstance(node.get("patternProperties"), dict):
            has_pattern_properties = True
            patterns += list(node["patternProperties"])
        has_unevaluated_properties |= "unevaluatedProperties" in node
        for pattern in patterns:
            try:
                _regex(pattern)
            except re2.error as exc:
                raise UnsupportedSchema(
                    f"The regular expression {pattern!r} cannot run in linear time "
                    f"(no backreferences or lookarounds): {exc}"
                ) from exc
    if has_pattern_properties and has_unevaluated_properties:
        raise UnsupportedSchema(
            "Use additionalProperties, not unevaluatedProperties, with patternProperties."
        )


@lru_cache(maxsize=1024)
def _validator(schema_json: str) -> Draft202012Validator:
    schema = json.loads(schema_json)
    AttributesValidator.check_schema(schema)
    attribute_schema_check_runnable(schema)
    return AttributesValidator(schema)


def _storable_number(number: int | float) -> bool:
    """What DynamoDB stores as a number: 0, or a magnitude from 1E-130 below 1E126, 38 digits at most."""
    value = Decimal(str(number))
    if value == 0:
        return True
    significant = "".join(map(str, value.as_tuple().digits)).strip("0")  # exact: no context rounding
    return NUMBER_MIN_MAGNITUDE <= abs(value) < NUMBER_MAX_MAGNITUDE and len(significant) <= NUMBER_MAX_DIGITS


def _unstorable(value: Any) -> str | None:
    """Why DynamoDB would refuse ``value`` inside a map (an empty name, a number out of its range),
    or None."""
    if isinstance(value, dict):
        if "" in value:
            return "Attribute names cannot be empty, at any depth."
        children = value.values()
    elif isinstance(value, list):
        children = value
    elif isinstance(value, int | float) and not isinstance(value, bool) and not _storable_number(value):
        return "Numbers must be 0 or of magnitude 1e-130 to below 1e126, with at most 38 digits."
    else:
        return None
    return next((reason for reason in map(_unstorable, children) if reason), None)


def attributes_validate(*, route: TenantRoute, attributes: dict[str, Any]) -> dict[str, Any]:
    if len(json.dumps(attributes)) > MAX_ATTRIBUTES_BYTES:
        raise InvalidAttributes(errors={"attributes": [f"At most {MAX_ATTRIBUTES_BYTES} bytes of JSON."]})
    unstorable = _unstorable(attributes)
    if unstorable:
        raise InvalidAttributes(errors={"attributes": [unstorable]})
    schema = route.attribute_schema
    if not schema or not route.policy.custom_attribute_schema:
        return attributes
    try:
        validator = _validator(json.dumps(schema, sort_keys=True))
    except (SchemaError, UnsupportedSchema) as exc:
        reason = exc.message if isinstance(exc, SchemaError) else str(exc)
        raise InvalidAttributes(
            "The tenant's attribute schema is itself invalid.", errors={"attributes": [reason]}
        ) from exc
    problems = sorted(validator.iter_errors(attributes), key=lambda e: list(e.absolute_path))
    if problems:
        raise InvalidAttributes(
            "The attributes do not match this marketplace's schema.",
            errors={
                "attributes": {
                    "/".join(str(p) for p in error.absolute_path) or "(root)": [error.message]
                    for error in problems
                }
            },
        )
    return attributes
