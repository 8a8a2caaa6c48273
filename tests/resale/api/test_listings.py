import pytest

from tests.resale.conftest import listing_body

pytestmark = [pytest.mark.ddblocal, pytest.mark.django_db]


def create(api, **overrides):
    response = api.client.post("/api/v1/listings", listing_body(**overrides), format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_create_answers_201_with_id_active_version_1_and_every_field(tenant_api):
    api = tenant_api()
    body = listing_body()
    listing = create(api)
    assert listing["status"] == "active" and listing["version"] == 1
    assert listing["id"] and listing["created_at"].endswith("Z")
    for field, value in body.items():
        assert listing[field] == value


def test_created_listing_records_the_api_key_as_actor(tenant_api):
    api = tenant_api()
    listing = create(api)
    from resale.tenancy import tenant_route

    item = tenant_route(api.slug).models.listings.get(listing["id"])
    assert item.actor == f"api-key:{api.key_id}"


def test_get_answers_200_then_404_for_an_unknown_id(tenant_api):
    api = tenant_api()
    listing = create(api)
    assert api.client.get(f"/api/v1/listings/{listing['id']}").json()["title"] == listing["title"]
    missing = api.client.get("/api/v1/listings/nope")
    assert missing.status_code == 404
    assert missing["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("field", "value"),
    [("price", "-1"), ("price", "abc"), ("price", "1.234"), ("currency", "XYZ"), ("currency", "eur")],
)
def test_bad_money_is_400_naming_the_field(tenant_api, field, value):
    api = tenant_api()
    response = api.client.post("/api/v1/listings", listing_body(**{field: value}), format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_yen_takes_no_decimals(tenant_api):
    api = tenant_api()
    assert (
        api.client.post(
            "/api/v1/listings", listing_body(price="10.5", currency="JPY"), format="json"
        ).status_code
        == 400
    )
    assert create(api, price="1200", currency="JPY")["price"] == "1200"


def test_missing_fields_are_400_each_named(tenant_api):
    response = tenant_api().client.post("/api/v1/listings", {"title": "x"}, format="json")
    assert response.status_code == 400
    assert {"seller_id", "category", "condition", "price", "currency"} <= set(response.json()["errors"])


def test_patch_with_if_match_bumps_the_version(tenant_api):
    api = tenant_api()
    listing = create(api)
    response = api.client.patch(
        f"/api/v1/listings/{listing['id']}", {"price": "40.00"}, format="json", HTTP_IF_MATCH="1"
    )
    assert response.status_code == 200, response.content
    assert response.json()["version"] == 2 and response.json()["price"] == "40.00"


def test_patch_with_a_stale_version_is_412(tenant_api):
    api = tenant_api()
    listing = create(api)
    path = f"/api/v1/listings/{listing['id']}"
    assert api.client.patch(path, {"title": "A"}, format="json", HTTP_IF_MATCH="1").status_code == 200
    stale = api.client.patch(path, {"title": "B"}, format="json", HTTP_IF_MATCH="1")
    assert stale.status_code == 412
    assert api.client.get(path).json()["title"] == "A"


def test_patch_without_if_match_is_428(tenant_api):
    api = tenant_api()
    listing = create(api)
    response = api.client.patch(f"/api/v1/listings/{listing['id']}", {"title": "B"}, format="json")
    assert response.status_code == 428


def test_patch_of_a_withdrawn_listing_is_409(tenant_api):
    api = tenant_api()
    listing = create(api)
    path = f"/api/v1/listings/{listing['id']}"
    assert api.client.delete(path).status_code == 204
    assert api.client.patch(path, {"title": "B"}, format="json", HTTP_IF_MATCH="2").status_code == 409


def test_patch_of_a_sold_listing_is_409(tenant_api):
    api = tenant_api()
    listing = create(api)
    from resale.tenancy import tenant_route

    item = tenant_route(api.slug).models.listings.get(listing["id"])
    item.update(actions=[type(item).status.set("sold")])
    response = api.client.patch(
        f"/api/v1/listings/{listing['id']}", {"title": "B"}, format="json", HTTP_IF_MATCH="2"
    )
    assert response.status_code == 409


def test_delete_withdraws_and_is_repeatable(tenant_api):
    api = tenant_api()
    listing = create(api)
    path = f"/api/v1/listings/{listing['id']}"
    assert api.client.delete(path).status_code == 204
    assert api.client.get(path).json()["status"] == "withdrawn"
    assert api.client.delete(path).status_code == 204
    assert api.client.delete("/api/v1/listings/nope").status_code == 404


def test_list_by_seller_is_newest_first_and_pages_with_a_cursor(tenant_api):
    api = tenant_api()
    ids = [create(api, seller_id="s-page", title=f"item {i}")["id"] for i in range(5)]
    seen = []
    cursor = None
    while True:
        params = {"seller_id": "s-page", "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = api.client.get("/api/v1/listings", params).json()
        assert set(page) == {"items", "next_cursor"}
        assert len(page["items"]) <= 2
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == list(reversed(ids))


def test_list_by_status_and_by_category(tenant_api):
    api = tenant_api()
    kept = create(api, category="books")
    gone = create(api, category="books")
    api.client.delete(f"/api/v1/listings/{gone['id']}")
    books = api.client.get("/api/v1/listings", {"category": "books"}).json()["items"]
    assert [item["id"] for item in books] == [gone["id"], kept["id"]]
    active_books = api.client.get("/api/v1/listings", {"category": "books", "status": "active"}).json()
    assert [item["id"] for item in active_books["items"]] == [kept["id"]]
    withdrawn = api.client.get("/api/v1/listings", {"status": "withdrawn"}).json()["items"]
    assert [item["id"] for item in withdrawn] == [gone["id"]]


@pytest.mark.parametrize("limit", ["0", "101", "x"])
def test_list_limit_out_of_range_is_400(tenant_api, limit):
    response = tenant_api().client.get("/api/v1/listings", {"seller_id": "s", "limit": limit})
    assert response.status_code == 400 and "limit" in response.json()["errors"]


def test_list_without_a_filter_is_400(tenant_api):
    assert tenant_api().client.get("/api/v1/listings").status_code == 400


def test_a_cursor_of_another_query_is_400(tenant_api):
    api = tenant_api()
    for _ in range(3):
        create(api, seller_id="s-a")
    cursor = api.client.get("/api/v1/listings", {"seller_id": "s-a", "limit": 1}).json()["next_cursor"]
    assert cursor
    response = api.client.get("/api/v1/listings", {"seller_id": "s-b", "limit": 1, "cursor": cursor})
    assert response.status_code == 400 and "cursor" in response.json()["errors"]
    forged = api.client.get("/api/v1/listings", {"seller_id": "s-a", "limit": 1, "cursor": cursor + "x"})
    assert forged.status_code == 400


def test_premium_attributes_are_validated_against_the_tenants_schema(tenant_api):
    api = tenant_api(tier="premium")
    api.tenant.attribute_schema = {
        "type": "object",
        "properties": {"size": {"enum": ["S", "M", "L"]}, "year": {"type": "integer"}},
        "required": ["size"],
        "additionalProperties": False,
    }
    api.tenant.save()
    assert create(api, attributes={"size": "M", "year": 1990})["attributes"] == {"size": "M", "year": 1990}
    bad = api.client.post("/api/v1/listings", listing_body(attributes={"size": "XXL"}), format="json")
    assert bad.status_code == 400
    assert "size" in bad.json()["errors"]["attributes"]
    missing = api.client.post("/api/v1/listings", listing_body(attributes={}), format="json")
    assert missing.status_code == 400


def test_standard_tier_schema_is_not_enforced(tenant_api):
    api = tenant_api(tier="standard")
    api.tenant.attribute_schema = {"type": "object", "required": ["size"]}
    api.tenant.save()
    assert create(api, attributes={})["attributes"] == {}


def test_image_upload_ticket_limits_type_and_size_and_the_upload_is_served_back(
    tenant_api, tmp_path, settings
):
    settings.MEDIA_ROOT = tmp_path
    from resale.media.storage import media_storage

    media_storage.cache_clear()
    api = tenant_api()
    listing = create(api)
    path = f"/api/v1/listings/{listing['id']}/images"
    bad = api.client.post(path, {"content_type": "text/html", "size": 10**9}, format="json")
    assert bad.status_code == 400 and {"content_type", "size"} <= set(bad.json()["errors"])
    ticket = api.client.post(path, {"content_type": "image/png", "size": 4}, format="json")
    assert ticket.status_code == 201
    upload_path = ticket.json()["url"].split("127.0.0.1:8000", 1)[1]
    too_big = api.client.generic("PUT", upload_path, b"12345", content_type="image/png")
    assert too_big.status_code == 413
    wrong_type = api.client.generic("PUT", upload_path, b"1234", content_type="image/jpeg")
    assert wrong_type.status_code == 400
    confirm = f"{path}/{ticket.json()['image_id']}"
    early = api.client.post(confirm)
    assert early.status_code == 409 and early["Content-Type"] == "application/problem+json"
    assert api.client.get(f"/api/v1/listings/{listing['id']}").json()["images"] == []
    assert api.client.generic("PUT", upload_path, b"\x89PNG", content_type="image/png").status_code == 201
    served = api.client.get(ticket.json()["image_url"].split("127.0.0.1:8000", 1)[1])
    assert served.status_code == 200 and b"".join(served.streaming_content) == b"\x89PNG"
    assert api.client.get(f"/api/v1/listings/{listing['id']}").json()["images"] == []
    confirmed = api.client.post(confirm)
    assert confirmed.status_code == 200 and confirmed.json()["images"] == [ticket.json()["image_url"]]
    assert confirmed.json()["version"] == 2
    assert api.client.post(confirm).json()["images"] == [ticket.json()["image_url"]]
    assert api.client.post(f"{path}/..%2F..%2Fsecret.png").status_code == 404
    media_storage.cache_clear()


def test_patch_validates_attributes_and_money_like_create(tenant_api):
    api = tenant_api(tier="premium")
    api.tenant.attribute_schema = {"type": "object", "properties": {"size": {"enum": ["S", "M"]}}}
    api.tenant.save()
    listing = create(api)
    path = f"/api/v1/listings/{listing['id']}"
    bad = api.client.patch(path, {"attributes": {"size": "XL"}}, format="json", HTTP_IF_MATCH="1")
    assert bad.status_code == 400 and "attributes" in bad.json()["errors"]
    assert api.client.patch(path, {"price": "9.999"}, format="json", HTTP_IF_MATCH="1").status_code == 400
    api.client.patch(path, {"price": "10.50"}, format="json", HTTP_IF_MATCH="1")
    yen = api.client.patch(path, {"currency": "JPY"}, format="json", HTTP_IF_MATCH="2")
    assert yen.status_code == 400 and "price" in yen.json()["errors"]
    assert api.client.patch(path, {"currency": "ABC"}, format="json", HTTP_IF_MATCH="2").status_code == 400
    good = api.client.patch(
        path, {"attributes": {"size": "S"}, "price": "9.99"}, format="json", HTTP_IF_MATCH="2"
    )
    assert good.status_code == 200
    assert good.json()["attributes"] == {"size": "S"} and good.json()["version"] == 3
    assert api.client.get(path).json()["attributes"] == {"size": "S"}
