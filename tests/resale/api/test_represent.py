"""``represent`` answers as DRF's ``to_representation`` does, for every output serializer of the
tenant API and any instance, and takes its plain path for the instances the API represents."""

import decimal
import sys
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework import serializers

from resale.api import serializers as api_serializers
from resale.api.listings import ListingOutputSerializer, ListingPageSerializer
from resale.api.orders import OrderOutputSerializer
from resale.api.serializers import RequestSerializer, represent
from resale.tables import Listing, Order, OrderStatusChange
from tests.resale.api.url_views import routed_view_classes


def _output_serializers() -> list[type[serializers.Serializer]]:
    """Every serializer the tenant API's views and their modules declare, but the input ones."""
    found = set()
    for view in routed_view_classes():
        if not view.__module__.startswith("resale."):
            continue
        for namespace in (vars(view), vars(sys.modules[view.__module__])):
            found.update(
                value
                for value in namespace.values()
                if isinstance(value, type)
                and issubclass(value, serializers.Serializer)
                and not issubclass(value, RequestSerializer)
                and value.__module__.startswith("resale.")
            )
    return sorted(found, key=lambda cls: (cls.__module__, cls.__qualname__))


SCALARS = st.one_of(
    st.none(),
    st.text(max_size=6),
    st.integers(),
    st.sampled_from(["12", " 7", "x", "1.5", "2026-12-04T10:00:00Z"]),
    st.floats(allow_nan=False),
    st.decimals(allow_nan=False, allow_infinity=False),
    st.booleans(),
)
VALUES = st.one_of(
    SCALARS,
    st.lists(st.text(max_size=4), max_size=2),
    st.dictionaries(st.text(max_size=3), SCALARS, max_size=2),
    st.just(lambda: "called"),
)


def instances(serializer: serializers.Serializer, depth: int = 0) -> st.SearchStrategy:
    """Objects or dicts holding some, all or none of what ``serializer``'s fields read, each value
    of any kind: the right one, None, a wrong type, a callable, a list of nested instances."""
    names = set(serializer.fields) | {"image_keys"}  # image_keys: what a listing's `images` reads
    nested = {
        name: field.child if isinstance(field, serializers.ListSerializer) else field
        for name, field in serializer.fields.items()
        if isinstance(field, serializers.BaseSerializer)
    }

    def value_of(name: str) -> st.SearchStrategy:
        if name in nested and depth < 2:
            inner = instances(nested[name], depth + 1)
            return st.one_of(VALUES, st.lists(inner, max_size=2), inner)
        return VALUES

    chosen = st.fixed_dictionaries({}, optional={name: value_of(name) for name in sorted(names)})
    return st.one_of(chosen, chosen.map(lambda values: SimpleNamespace(**values)))


def outcome(call):
    try:
        return "value", call()
    except Exception as exc:  # noqa: BLE001 - the error is part of the answer compared
        return "error", type(exc)


@pytest.mark.parametrize("serializer_class", _output_serializers(), ids=lambda cls: cls.__qualname__)
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_output_serializer_answers_as_drfs_own(serializer_class, data):
    instance = data.draw(instances(serializer_class()))
    ours = outcome(lambda: represent(serializer_class, instance))
    drfs = outcome(lambda: serializer_class().to_representation(instance))
    assert ours == drfs, instance


def test_the_serializers_the_api_represents_with_are_plain():
    plain = [cls for cls in _output_serializers() if api_serializers._output_plan(cls) is not None]
    for serializer_class in (ListingOutputSerializer, ListingPageSerializer, OrderOutputSerializer):
        assert serializer_class in plain


def _listing() -> Listing:
    return Listing(
        id="l-1", seller_id="s-1", title="A coat", description="", category="coats", condition="good",
        price="12.50", currency="EUR", attributes={"size": "M"}, image_keys=["k/1.jpg"], status="active",
        version=3, created_at="2026-12-04T10:00:00.000000Z", updated_at="2026-12-04T10:00:00.000000Z",
        actor="api-key:k",
    )  # fmt: skip


def _order() -> Order:
    change = OrderStatusChange(status="submitted", at="2026-12-04T10:00:00.000000Z", actor="a", reason="")
    return Order(
        id="o-1", listing_id="l-1", buyer_id="b-1", status="submitted", amount="12.50", currency="EUR",
        shipping_address={"line1": "x"}, payment_token_fingerprint="f", history=[change], version=1,
        created_at="2026-12-04T10:00:00.000000Z", updated_at="2026-12-04T10:00:00.000000Z", actor="a",
    )  # fmt: skip


@pytest.mark.parametrize(
    "serializer_class,instance",
    [
        (ListingOutputSerializer, _listing()),
        (ListingPageSerializer, {"items": [_listing(), _listing()], "next_cursor": None}),
        (OrderOutputSerializer, _order()),
    ],
)
def test_the_apis_models_take_the_plain_path(monkeypatch, serializer_class, instance):
    expected = serializer_class().to_representation(instance)

    def refuse(*args):
        raise AssertionError("DRF's own to_representation was called")

    monkeypatch.setattr(serializers.Serializer, "to_representation", refuse)
    monkeypatch.setattr(serializers.Field, "get_attribute", refuse)
    assert represent(serializer_class, instance) == expected


def test_a_decimal_and_a_missing_attribute_are_answered_as_drf_does():
    listing = _listing()
    listing.price = decimal.Decimal("1.10")
    assert represent(ListingOutputSerializer, listing)["price"] == "1.10"
    with pytest.raises(AttributeError):
        represent(ListingOutputSerializer, SimpleNamespace(id="l-1"))
