import pytest

# The catalogue's fixtures (a small category tree and five real books), shared, not copied.
from tests.catalog.conftest import catalogue, tree  # noqa: F401

# The browser tests' fixtures (tests/storefront/browser.py).
from .browser import browser, customer, laptop, page, phone, playwright, server, shelf, shot, site  # noqa: F401


@pytest.fixture
def signed_in(client, user):
    """The test client signed in as ``user`` (a session, as a browser has)."""
    client.force_login(user)
    return client


def html(response) -> str:
    """A page's HTML, which must have answered 200."""
    assert response.status_code == 200, response.status_code
    return response.content.decode()
