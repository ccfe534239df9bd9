"""OPTIONS: a staff user (who may write) gets the endpoint's description, not a 500.

DRF's default metadata builds a form description from ``get_serializer()``, which viewsets
with separate input and output serializers do not have.
"""

import pytest

from tests.catalog.conftest import catalogue, tree  # noqa: F401  (shared fixtures)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/books/",
        "/api/v1/books/9780441172696/",
        "/api/v1/books/9780441172696/cover/",
        "/api/v1/categories/",
        "/api/v1/categories/fiction/",
        "/api/v1/authors/",
        "/api/v1/cart/",
    ],
)
@pytest.mark.parametrize("who", ["anonymous", "customer", "staff"])
@pytest.mark.usefixtures("catalogue")
def test_options_describes_the_endpoint_to_everyone(api_client, user, staff_user, url, who):
    if who != "anonymous":
        api_client.force_authenticate(staff_user if who == "staff" else user)
    response = api_client.options(url)
    assert response.status_code == 200
    body = response.json()
    assert body["name"]
    assert "application/json" in body["renders"]
    assert "GET" in response["Allow"] or "POST" in response["Allow"]
