"""Schemathesis against the API in-process: every read answers as its OpenAPI schema says.

Each GET operation of ``/api/schema/`` gets a few generated requests (valid and invalid query
strings, unknown keys), sent through ``bookstore.wsgi.application`` as an anonymous visitor, a
customer and a member of staff (JWT), on a small catalogue with an order. Each answer must not
be a 5xx, must have a documented status and content type, a body matching its schema, and an
error must be problem details. Bounded (a few examples per operation) and derandomized, so a
failure is found again on the next run.
"""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.test import APIClient

from bookstore.wsgi import application
from tests.catalog.conftest import catalogue, tree  # noqa: F401  (shared fixtures)
from tests.fuzzing import CHECKS  # the checks of the live fuzzing too (test_api_fuzz_live.py)

ADDRESS = {
    "kind": "shipping",
    "name": "Jeanne Valjean",
    "line1": "12 rue des Écoles",
    "postal_code": "75005",
    "city": "Paris",
    "country": "FR",
}


@pytest.fixture
def _connection_kept(shop, callers):
    """Keep the test's database connection across requests, as Django's test client does.

    The requests go through the real WSGI handler, whose ``request_finished`` closes a
    connection that is not in autocommit mode: here, the one holding the test's transaction.
    After the fixtures that use the test client, which connects the handler again.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def callers(api_client, password, user, staff_user) -> dict[str, dict[str, str]]:
    """Request headers of an anonymous visitor, a customer and a member of staff (JWT)."""
    headers = {"anonymous": {}}
    for name, who in (("customer", user), ("staff", staff_user)):
        response = api_client.post(
            "/api/v1/auth/token/", {"email": who.email, "password": password}, format="json"
        )
        assert response.status_code == 200, response.content
        headers[name] = {"Authorization": f"Bearer {response.json()['access']}"}
    return headers


@pytest.fixture
def shop(db, catalogue, user):  # noqa: F811  (the fixture imported above)
    """A catalogue, and a customer with an address and an order."""
    customer = APIClient()
    customer.force_authenticate(user)
    response = customer.post("/api/v1/me/addresses/", ADDRESS, format="json")
    assert response.status_code == 201, response.content
    response = customer.post("/api/v1/cart/items/", {"book": catalogue["dune"].pk}, format="json")
    assert response.status_code == 201, response.content
    response = customer.post(
        "/api/v1/orders/", {"shipping_address": ADDRESS, "payment_provider": "dummy"}, format="json"
    )
    assert response.status_code == 201, response.content


# Loaded once, when the module is collected: the schema view reads no table.
schema = schemathesis.openapi.from_wsgi("/api/schema/", application).include(method="GET")


@schema.parametrize()
@settings(
    max_examples=8,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
@pytest.mark.usefixtures("_connection_kept")
def test_every_read_answers_as_its_schema_says(case, callers):
    for headers in callers.values():
        response = case.call(headers=headers)
        case.validate_response(response, checks=CHECKS)
