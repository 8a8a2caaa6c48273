"""A test using the database after a browser call leaves no connection open at the session's end.

A Playwright call leaves its event loop set in the test thread, and Django then keeps that
thread's connections apart from its synchronous ones. The connection the ORM test opens here is
one of those. If the ``chromium`` fixture did not close it, dropping the test database would fail
("being accessed by other users"). ``pyproject.toml`` makes that warning an error.
"""

import pytest


@pytest.mark.django_db
def test_a_browser_call(new_page):
    new_page().goto("about:blank")


@pytest.mark.django_db
def test_the_orm_after_it(django_user_model):
    django_user_model.objects.create_user("after-the-browser", password="after-the-browser-1")
    assert django_user_model.objects.filter(username="after-the-browser").exists()
