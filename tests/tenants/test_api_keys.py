import pytest

from tenants.actions import do_create_tenant, do_issue_api_key, do_revoke_api_key
from tenants.api_keys import resolution_cache, resolve_api_key
from tenants.models import ApiKey

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    resolution_cache.clear()


def _tenant(slug="shop-one"):
    return do_create_tenant(slug=slug, name="Shop", tier="standard", admin_email="a@shop.example")


def test_the_key_is_stored_only_as_a_hash():
    issued = do_issue_api_key(tenant=_tenant(), name="storefront", scopes=["read"])
    stored = ApiKey.objects.get(id=issued.id)
    assert issued.key.split("_", 2)[2] not in stored.secret_hash
    assert len(stored.secret_hash) == 64


def test_a_key_resolves_to_its_own_tenant_and_scopes():
    issued = do_issue_api_key(tenant=_tenant(), name="storefront", scopes=["write", "read"])
    principal = resolve_api_key(issued.key)
    assert principal.tenant_slug == "shop-one"
    assert principal.scopes == {"read", "write"}


def test_a_tampered_secret_does_not_resolve():
    issued = do_issue_api_key(tenant=_tenant(), name="storefront", scopes=["read"])
    assert resolve_api_key(issued.key[:-2] + "xx") is None
    assert resolve_api_key("rk_nope") is None
    assert resolve_api_key("") is None


def test_a_revoked_key_stops_resolving_once_the_cache_entry_expires():
    issued = do_issue_api_key(tenant=_tenant(), name="storefront", scopes=["read"])
    assert resolve_api_key(issued.key) is not None
    do_revoke_api_key(api_key=ApiKey.objects.get(id=issued.id))
    resolution_cache.clear()
    assert resolve_api_key(issued.key) is None
