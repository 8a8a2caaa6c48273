"""A tenant's own data model for listings: ``attributes`` checked against its JSON Schema.

Only tiers with the ``custom_attribute_schema`` feature have their schema enforced; validators
are compiled once per schema and reused.
"""

import json
from functools import lru_cache
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from resale.listings.errors import InvalidAttributes
from resale.tenancy import TenantRoute

MAX_ATTRIBUTES_BYTES = 16 * 1024


@lru_cache(maxsize=1024)
def _validator(schema_json: str) -> Draft202012Validator:
    schema = json.loads(schema_json)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def attributes_validate(*, route: TenantRoute, attributes: dict[str, Any]) -> dict[str, Any]:
    if len(json.dumps(attributes)) > MAX_ATTRIBUTES_BYTES:
        raise InvalidAttributes(errors={"attributes": [f"At most {MAX_ATTRIBUTES_BYTES} bytes of JSON."]})
    schema = route.attribute_schema
    if not schema or not route.policy.custom_attribute_schema:
        return attributes
    try:
        validator = _validator(json.dumps(schema, sort_keys=True))
    except SchemaError as exc:
        raise InvalidAttributes(
            "The tenant's attribute schema is itself invalid.", errors={"attributes": [exc.message]}
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
