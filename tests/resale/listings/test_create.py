"""Creating a listing: the PutItem built by hand is PynamoDB's own, and a retried create whose
first answer was lost recognises its own write (tested through a proxy that loses answers)."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pynamodb.constants import ITEM
from pynamodb.exceptions import PutError

from resale.api.listings import ListingOutputSerializer
from resale.api.serializers import represent
from resale.listings import services
from resale.listings.services import listing_create
from resale.tenancy import forget_tenant_routes, tenant_route
from tests.lossy_proxy import LossyProxy
from tests.resale.conftest import listing_body

pytestmark = [pytest.mark.ddblocal, pytest.mark.django_db]

text = st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=20)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**20), 10**20)
    | st.floats(-1e20, 1e20, allow_nan=False).filter(lambda f: f == 0 or abs(f) > 1e-20)
    | st.text(st.characters(exclude_categories=["Cs"]), max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(text, children, max_size=4),
    max_leaves=12,
)


def create_fields(**overrides) -> dict:
    fields = listing_body(**overrides)
    return {name: fields[name] for name in fields}


def recorded_puts(route, monkeypatch) -> list[dict]:
    """Every request the route's connection dispatches, recorded on its way to DynamoDB Local."""
    connection = route.models.listings._get_connection().connection
    dispatch, sent = connection.dispatch, []

    def recording(operation_name, operation_kwargs):
        sent.append(dict(operation_kwargs))
        return dispatch(operation_name, operation_kwargs)

    monkeypatch.setattr(connection, "dispatch", recording)
    return sent


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    attributes=st.dictionaries(text, json_values, max_size=5), title=text, description=st.text(max_size=30)
)
def test_the_put_item_is_exactly_what_pynamodbs_save_sends_for_the_same_listing(
    provisioned_tenant, monkeypatch, attributes, title, description
):
    route = tenant_route(provisioned_tenant_once(provisioned_tenant).slug)
    with monkeypatch.context() as patch:
        sent = recorded_puts(route, patch)
        created = listing_create(
            route=route,
            actor="api-key:k",
            **create_fields(attributes=attributes, title=title, description=description),
        )
    model = route.models.listings
    listing = model(
        **{
            name: getattr(created, name)
            for name in model.get_attributes()
            if name not in {"version", "image_keys", "reserved_order_id"}
        }
    )
    args, kwargs = listing._get_save_args(condition=model.id.does_not_exist())
    table = model._get_connection()
    expected = table.connection.get_operation_kwargs(
        table.table_name, args[0], key=ITEM, **kwargs, return_values_on_condition_failure="ALL_OLD"
    )
    assert len(sent) == 1
    assert {name: value for name, value in sent[0].items() if name != "ReturnConsumedCapacity"} == expected
    assert represent(ListingOutputSerializer, created) == represent(
        ListingOutputSerializer, model.get(created.id, consistent_read=True)
    )


_tenants: dict = {}


def provisioned_tenant_once(provisioned_tenant):
    """One tenant for all of a property test's examples (onboarding each would take minutes)."""
    key = id(provisioned_tenant)
    if key not in _tenants:
        _tenants.clear()
        _tenants[key] = provisioned_tenant()
    return _tenants[key]


@pytest.fixture
def lossy(dynamodb_local, settings):
    """The tenant API reaches DynamoDB Local through a proxy that can lose answers."""
    proxy = LossyProxy(dynamodb_local.port).start()
    settings.DYNAMODB_ENDPOINT = proxy.endpoint
    # A lost answer is a read timeout; leave the call's deadline room for the wire's retry.
    settings.DYNAMODB_READ_TIMEOUT_SECONDS = 1
    settings.DYNAMODB_CALL_DEADLINE_SECONDS = 4
    forget_tenant_routes()
    yield proxy
    proxy.stop()
    forget_tenant_routes()


def listings_of(api, seller_id: str) -> list[dict]:
    return api.client.get(f"/api/v1/listings?seller_id={seller_id}").json()["items"]


def test_a_create_whose_first_answer_is_lost_answers_201_as_the_first_attempt_would_have(tenant_api, lossy):
    api = tenant_api()
    lossy.answers_to_lose = 1
    response = api.client.post("/api/v1/listings", listing_body(seller_id="lost-answer"), format="json")
    assert lossy.answers_lost == 1
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["version"] == 1 and created["status"] == "active"
    assert listings_of(api, "lost-answer") == [created]


def test_a_create_no_attempt_confirms_is_503_saying_the_listing_may_exist(tenant_api, lossy):
    api = tenant_api()
    lossy.answers_to_lose = 100
    response = api.client.post("/api/v1/listings", listing_body(seller_id="never-confirmed"), format="json")
    assert response.status_code == 503 and response["Retry-After"]
    assert response.json()["title"] == "Write not confirmed"
    assert "may or may not have been created" in response.json()["detail"]
    lossy.answers_to_lose = 0
    (written,) = listings_of(api, "never-confirmed")
    assert written["id"] in response.json()["detail"]


def test_an_item_already_under_the_id_that_is_not_this_requests_is_never_taken_for_it(
    provisioned_tenant, monkeypatch
):
    route = tenant_route(provisioned_tenant().slug)
    first = listing_create(route=route, actor="api-key:first", **create_fields())
    monkeypatch.setattr(services.uuid, "uuid4", lambda: type("Fixed", (), {"hex": first.id})())
    with pytest.raises(PutError) as failure:
        listing_create(route=route, actor="api-key:second", **create_fields(title="Another"))
    assert failure.value.cause_response_code == "ConditionalCheckFailedException"
    stored = route.models.listings.get(first.id, consistent_read=True)
    assert (stored.title, stored.actor) == (first.title, "api-key:first")
