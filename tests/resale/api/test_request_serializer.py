"""The tenant API's input serializers copy their fields cheaply; validation must not change."""

import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework import serializers

from resale.api.serializers import RequestSerializer
from tests.resale.api.url_views import routed_view_classes


class Address(serializers.Serializer):
    line1 = serializers.CharField(max_length=10)


def declare(base):
    class Sample(base):
        name = serializers.CharField(max_length=5)
        kind = serializers.ChoiceField(["a", "b"])
        tags = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False)
        extra = serializers.DictField(child=serializers.CharField(max_length=3), default=dict)
        address = Address(required=False)

    return Sample


Cheap, Plain = declare(RequestSerializer), declare(serializers.Serializer)

CASES = [
    {"name": "ok", "kind": "a", "tags": [1, 2], "extra": {"k": "v"}, "address": {"line1": "x"}},
    {"name": "too long", "kind": "c", "tags": [0, "x"], "extra": {"k": "long"}, "address": {"line1": ""}},
    {},
]


@pytest.mark.parametrize("data", CASES)
def test_validation_and_errors_are_drfs_own(data):
    cheap, plain = Cheap(data=data), Plain(data=data)
    assert cheap.is_valid() == plain.is_valid()
    assert cheap.errors == plain.errors
    if not plain.errors:
        assert cheap.validated_data == plain.validated_data


def test_each_instance_binds_copies_and_leaves_the_declared_fields_unbound():
    first, second = Cheap(data={}), Cheap(data={})
    for name in ("name", "tags", "extra", "address"):
        assert first.fields[name] is not second.fields[name]
        assert first.fields[name].parent is first and second.fields[name].parent is second
        assert Cheap._declared_fields[name].parent is None
    assert first.fields["tags"].child is not second.fields["tags"].child
    assert first.fields["tags"].child.parent is first.fields["tags"]
    assert first.fields["tags"].child.root is first


def test_concurrent_validations_see_only_their_own_data():
    failures = []
    barrier = threading.Barrier(8)

    def validate(worker: int) -> None:
        barrier.wait()
        for i in range(200):
            name = f"{worker}{i % 10}"[:5]
            serializer = Cheap(data={"name": name, "kind": "ab"[i % 2], "tags": [worker + 1]})
            if not serializer.is_valid() or serializer.validated_data["tags"] != [worker + 1]:
                failures.append((worker, i, serializer.errors))
            elif serializer.validated_data["name"] != name:
                failures.append((worker, i, serializer.validated_data))

    threads = [threading.Thread(target=validate, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


def _input_serializers() -> list[type[RequestSerializer]]:
    """Every input serializer of the tenant API, found through the URL conf's views."""
    found = {
        value
        for view in routed_view_classes()
        for value in vars(view).values()
        if isinstance(value, type) and issubclass(value, RequestSerializer)
    }
    return sorted(found, key=lambda cls: cls.__qualname__)


TEXT = st.one_of(
    st.text(max_size=8),
    st.text(alphabet=st.sampled_from(" \t\n\x00\ud800éa-"), max_size=6),
    st.sampled_from(["EUR", "USD", "eur", "12.50", "12.505", "0", "-1", "  ", ""]),
    st.text(min_size=95, max_size=210),
)
VALUES = st.one_of(
    TEXT,
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(
        st.text(max_size=3), st.one_of(st.text(max_size=3), st.none(), st.integers()), max_size=3
    ),
)


@pytest.mark.django_db
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_the_plain_path_answers_exactly_as_drf_for_every_input_serializer(data):
    for serializer_class in _input_serializers():
        names = list(serializer_class._declared_fields)
        body = data.draw(
            st.one_of(
                st.dictionaries(st.sampled_from(names + ["unknown"]), VALUES, max_size=len(names) + 1),
                st.fixed_dictionaries({name: TEXT for name in names}),
                VALUES,
            )
        )
        ours, drfs = serializer_class(data=body), serializer_class(data=body)
        assert ours.is_valid() == serializers.Serializer.is_valid(drfs), (serializer_class, body)
        assert ours.errors == drfs.errors, (serializer_class, body)
        if not drfs.errors:
            assert ours.validated_data == drfs.validated_data, (serializer_class, body)


def test_a_plainly_valid_listing_skips_drfs_field_machinery(monkeypatch):
    from resale.api.listings import ListingCollectionApi

    calls = []
    monkeypatch.setattr(serializers.Serializer, "run_validation", lambda *args: calls.append(args))
    body = {
        "seller_id": "s-1",
        "title": " A coat ",
        "category": "coats",
        "condition": "good",
        "price": "12.50",
        "currency": "EUR",
        "attributes": {"size": "M"},
    }
    serializer = ListingCollectionApi.InputSerializer(data=body)
    assert serializer.is_valid() and calls == []
    assert serializer.validated_data == {**body, "title": "A coat", "description": ""}
