"""Every attribute says what it is, and only what is declared keepable leaves the live item."""

import pytest
from pynamodb.attributes import MapAttribute, UnicodeAttribute
from pynamodb.models import Model

from resale.privacy.declarations import Privacy, keepable_image, ordinary, undeclared_attributes
from resale.privacy.sealing import RECORD_SCHEMAS
from resale.tables import TENANT_TABLE_MODELS, Order


@pytest.mark.parametrize("schema", sorted({*TENANT_TABLE_MODELS.values(), *RECORD_SCHEMAS.values()}, key=str))
def test_every_attribute_of_every_model_declares_what_it_is(schema):
    assert undeclared_attributes(schema) == []


def test_an_attribute_added_without_a_declaration_is_found_even_inside_a_nested_map():
    class Leg(MapAttribute):
        city = ordinary(UnicodeAttribute())
        courier_phone = UnicodeAttribute()

    class Parcel(Model):
        class Meta:
            table_name = None

        id = ordinary(UnicodeAttribute(hash_key=True))
        tracking_secret = UnicodeAttribute()
        leg = ordinary(Leg())

    assert sorted(undeclared_attributes(Parcel)) == ["Leg.courier_phone", "Parcel.tracking_secret"]


def test_secrets_and_undeclared_fields_are_left_out_and_personal_data_goes_where_it_is_told():
    image = {
        "id": "o-1",
        "status": "paid",
        "buyer_id": "buyer-1",
        "shipping_address": {"line1": "1 Main St"},
        "payment_token_sealed": "gAAAA-sealed",
        "payment_token_fingerprint": "fp",
        "idempotency_key": "k",
        "card_number_someone_added_later": "4111111111111111",
        "history": [{"status": "paid", "at": "t", "actor": "a", "reason": "", "cvv": "123"}],
    }
    kept = keepable_image(Order, image, personal_value=lambda name, value: f"<{name}>")
    assert kept == {
        "id": "o-1",
        "status": "paid",
        "buyer_id": "<buyer_id>",
        "shipping_address": "<shipping_address>",
        "history": [{"status": "paid", "at": "t", "actor": "a", "reason": ""}],
    }
    assert set(keepable_image(Order, image)) == {"id", "status", "history"}


def test_every_secret_the_platform_holds_is_declared_secret():
    declared = {
        name: vars(attribute)["privacy"]
        for model in TENANT_TABLE_MODELS.values()
        for name, attribute in model.get_attributes().items()
    }
    for name in (
        "payment_token_sealed",
        "payment_token_fingerprint",
        "idempotency_key",
        "request_fingerprint",
    ):
        assert declared[name] == Privacy.SECRET
