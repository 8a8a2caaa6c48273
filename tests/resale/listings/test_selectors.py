"""listing_list's text filter and its unfiltered scan (the console's "any status")."""

import pytest

from resale.listings.selectors import listing_list
from resale.tenancy import tenant_route
from tests.resale.factories import listing_create, models_of

pytestmark = [pytest.mark.django_db, pytest.mark.ddblocal]


def test_text_filters_title_or_description_on_top_of_an_index_or_a_scan(provisioned_tenant):
    tenant = provisioned_tenant()
    models = models_of(tenant)
    red = listing_create(models, title="Red sneakers", description="", category="shoes")
    laces = listing_create(models, title="Boots", description="red laces", category="shoes", status="sold")
    listing_create(models, title="Blue coat", description="", category="coats")
    route = tenant_route(tenant.slug)

    def ids(**filters) -> set[str]:
        return {listing.id for listing in listing_list(route=route, limit=50, **filters).items}

    assert len(ids()) == 3
    assert ids(text="red") == {laces.id}
    assert ids(text="Red") == {red.id}
    assert ids(category="shoes", text="red") == {laces.id}
    assert ids(status="active", text="Red") == {red.id}


def test_a_scan_pages_through_with_a_cursor_bound_to_its_filters(provisioned_tenant):
    tenant = provisioned_tenant()
    models = models_of(tenant)
    created = {listing_create(models).id for _ in range(7)}
    route = tenant_route(tenant.slug)
    first = listing_list(route=route, limit=4)
    second = listing_list(route=route, limit=4, cursor=first.next_cursor)
    assert len(first.items) == 4 and {i.id for i in first.items} | {i.id for i in second.items} == created
