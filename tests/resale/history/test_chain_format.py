"""The chain's canonical JSON fast path is RFC 8785, byte for byte, as the rfc8785 package writes it."""

import random

import pytest
import rfc8785

from resale.history.verify_history import canonical_bytes

AWKWARD = [
    "",
    "plain",
    'quote " backslash \\ slash /',
    "controls \x00\x01\x08\t\n\x0b\x0c\r\x1f\x7f",
    "line separators \u2028\u2029",
    "accents é ñ ü, CJK 漢字, emoji 📷🧪",
    "\ue000 private use and \uffff",
]
KEYS = ["a", "B", "é", "z", "aa", "\u20ac", "\ue000", "\U0001f600", "10", "1", "_"]


def _random_value(rng: random.Random, depth: int = 0):
    kinds = ["str", "int", "bool", "null"] + (["dict", "list"] if depth < 3 else [])
    kind = rng.choice(kinds)
    if kind == "str":
        return rng.choice(AWKWARD) + str(rng.randint(0, 9))
    if kind == "int":
        return rng.choice([0, -1, 7, 2**53 - 1, -(2**53 - 1), rng.randint(-(10**9), 10**9)])
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "null":
        return None
    if kind == "list":
        return [_random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {
        rng.choice(KEYS) + rng.choice(AWKWARD[:3]): _random_value(rng, depth + 1)
        for _ in range(rng.randint(0, 5))
    }


@pytest.mark.parametrize("seed", range(40))
def test_the_fast_canonical_json_is_byte_for_byte_the_rfc8785_packages(seed):
    value = _random_value(random.Random(seed))
    assert canonical_bytes(value) == rfc8785.dumps(value)


@pytest.mark.parametrize(
    "value",
    [
        {"\U0001f600": 1, "\uffff": 2, "\ue000": 3},
        {"price": 1.5, "ratio": 1e21, "tiny": 5e-7},
        {"big": 2**53 - 1},
        [AWKWARD, {k: k for k in KEYS}],
    ],
)
def test_values_the_fast_path_cannot_write_go_to_rfc8785(value):
    assert canonical_bytes(value) == rfc8785.dumps(value)
