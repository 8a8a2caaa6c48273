import pytest
from django.contrib.auth.models import User
from knox.models import AuthToken
from rest_framework.test import APIClient


@pytest.fixture
def staff_client(db):
    """An API client holding a platform staff user's token."""
    user = User.objects.create_user("api-staff", password="pw-staff-1", is_staff=True)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(user=user)[1]}")
    return client
