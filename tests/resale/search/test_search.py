import pytest

from tests.resale.factories import (
    api_client_for,
    drain,
    in_process_consumer,
    listing_change,
    listing_create,
    models_of,
)

pytestmark = [pytest.mark.ddblocal, pytest.mark.django_db]


def _ids(client, **params):
    response = client.get("/api/v1/search", params)
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["items"]]


def test_search_follows_create_change_withdraw_and_sale(provisioned_tenant):
    tenant = provisioned_tenant()
    models = models_of(tenant)
    shopper = api_client_for(tenant, "read")
    consumer = in_process_consumer()
    camera = listing_create(models, title="Leica rangefinder camera")
    drain(consumer)
    assert _ids(shopper, q="leica") == [camera.id]

    listing_change(camera, title="Nikon reflex camera")
    drain(consumer)
    assert _ids(shopper, q="leica") == []
    assert _ids(shopper, q="nikon") == [camera.id]

    listing_change(camera, status="withdrawn")
    drain(consumer)
    assert _ids(shopper, q="nikon") == []

    lens = listing_create(models, title="Nikon lens")
    drain(consumer)
    assert _ids(shopper, q="nikon") == [lens.id]
    listing_change(lens, status="sold")
    lens.delete()
    drain(consumer)
    assert _ids(shopper, q="nikon") == []


def test_search_ranks_title_matches_first_and_filters_by_category_and_price(provisioned_tenant):
    tenant = provisioned_tenant()
    models = models_of(tenant)
    in_description = listing_create(
        models, title="Leather bag", description="Fits a small tripod", price="40.00"
    )
    in_title = listing_create(models, title="Carbon tripod", category="accessories", price="150.00")
    cheap = listing_create(models, title="Mini tripod", category="accessories", price="15.00")
    drain(in_process_consumer())
    shopper = api_client_for(tenant, "read")

    ranked = _ids(shopper, q="tripod")
    assert set(ranked) == {in_description.id, in_title.id, cheap.id}
    assert ranked[-1] == in_description.id
    assert _ids(shopper, q="tripod", category="accessories", min_price="20", max_price="200") == [in_title.id]
    assert set(_ids(shopper, max_price="50")) == {in_description.id, cheap.id}
    first = shopper.get("/api/v1/search", {"q": "tripod", "limit": 2}).json()
    rest = shopper.get("/api/v1/search", {"q": "tripod", "limit": 2, "cursor": first["next_cursor"]}).json()
    assert [i["id"] for i in first["items"] + rest["items"]] == ranked and rest["next_cursor"] is None
    bad = shopper.get("/api/v1/search", {"min_price": "9", "max_price": "1"})
    assert bad.status_code == 400 and "min_price" in bad.json()["errors"]


def test_another_tenants_search_never_returns_this_tenants_listing(provisioned_tenant):
    mine, theirs = provisioned_tenant(), provisioned_tenant()
    listing = listing_create(models_of(mine), title="Unique hasselblad medium format")
    drain(in_process_consumer())
    assert _ids(api_client_for(mine, "read"), q="hasselblad") == [listing.id]
    other_shopper = api_client_for(theirs, "read")
    assert _ids(other_shopper, q="hasselblad") == []
    assert listing.id not in _ids(other_shopper)


def test_a_replayed_older_record_does_not_bring_back_an_old_title(provisioned_tenant):
    from resale.models import SearchDocument, StreamShard

    tenant = provisioned_tenant()
    models = models_of(tenant)
    listing = listing_create(models, title="Old title")
    listing_change(listing, title="New title")
    drain(in_process_consumer())
    StreamShard.objects.filter(tenant_slug=tenant.slug).update(checkpoint="", lease_owner="")
    drain(in_process_consumer("replayer"))
    assert SearchDocument.objects.get(listing_id=listing.id).title == "New title"


def test_search_needs_the_read_scope(provisioned_tenant):
    tenant = provisioned_tenant()
    assert api_client_for(tenant, "audit").get("/api/v1/search").status_code == 403


def test_row_level_security_hides_other_tenants_rows_even_without_a_tenant_filter(provisioned_tenant):
    from resale.models import SearchDocument
    from resale.search.selectors import tenant_search_scope

    mine, theirs = provisioned_tenant(), provisioned_tenant()
    listing_create(models_of(mine), title="Rolleiflex")
    listing_create(models_of(theirs), title="Rolleiflex too")
    drain(in_process_consumer())
    assert SearchDocument.objects.filter(tenant_slug__in=[mine.slug, theirs.slug]).count() == 2
    with tenant_search_scope(mine.slug):
        assert set(SearchDocument.objects.values_list("tenant_slug", flat=True)) == {mine.slug}
    with tenant_search_scope("nobody"):
        assert SearchDocument.objects.count() == 0
