"""The table roles every tenant has, as the tests expect them: written out here, not read from the
program or the models under test."""

TABLE_ROLES = frozenset({"listings", "orders", "links", "clicks", "idempotency", "history"})
HISTORY_FEEDING_ROLES = frozenset({"listings", "orders", "links", "clicks"})
"""The roles whose streams the consumer appends to the history."""
