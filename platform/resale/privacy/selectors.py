"""The readable view of the personal data in history events: what their envelopes still open to.

The events themselves (and their hashes) always carry the envelopes as stored; this view is
served beside them, outside the hashed event, and reads ``"[erased]"`` once a key is destroyed.
"""

from collections.abc import Iterable
from typing import Any

from resale.binding import TenantModels, tenant_dynamodb_client
from resale.privacy.keys import envelope_reveal, is_envelope, keys_by_kid

SIDES = ("old", "new")


def _envelopes(event: dict[str, Any]) -> Iterable[tuple[str, str, dict]]:
    for side in SIDES:
        image = event.get(side)
        if isinstance(image, dict):
            for name, value in image.items():
                if is_envelope(value):
                    yield side, name, value


class PersonalDataView:
    """Opens the envelopes of events with the tenant's keys, each key read once per view."""

    def __init__(self, *, client, table: str) -> None:
        self._client, self._table = client, table
        self._keys: dict[str, bytes] = {}
        self._looked_up: set[str] = set()

    def _fetch(self, kids: set[str]) -> None:
        missing = kids - self._looked_up
        if missing:
            self._keys.update(keys_by_kid(client=self._client, table=self._table, kids=missing))
            self._looked_up |= missing

    def of(self, event: dict[str, Any]) -> dict[str, dict[str, Any]] | None:
        """``{"old": {attribute: value}, "new": {...}}`` for the event's envelopes, or None."""
        envelopes = list(_envelopes(event))
        if not envelopes:
            return None
        self._fetch({envelope["kid"] for _, _, envelope in envelopes})
        view: dict[str, dict[str, Any]] = {}
        for side, name, envelope in envelopes:
            view.setdefault(side, {})[name] = envelope_reveal(self._keys, name, envelope)
        return view

    def of_page(self, events: list[dict[str, Any]]) -> dict[str, dict[str, dict[str, Any]]]:
        """The view of a page of events, by seq (as a string: JSON object keys)."""
        self._fetch({envelope["kid"] for event in events for _, _, envelope in _envelopes(event)})
        return {str(event["seq"]): view for event in events if (view := self.of(event)) is not None}


def personal_data_view(tenant_models: TenantModels) -> PersonalDataView:
    """A view of the tenant's history envelopes, with the tenant's own client."""
    return PersonalDataView(
        client=tenant_dynamodb_client(tenant_models.tenant), table=tenant_models.history.Meta.table_name
    )
