"""The tenant API's input serializers copy their fields cheaply; validation must not change."""

import threading

import pytest
from resale.api.serializers import RequestSerializer
from rest_framework import serializers


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
