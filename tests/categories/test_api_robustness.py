"""Inputs that schemathesis found answered with a 500, each now a clear problem details answer."""

import pytest

from apps.categories.models import Category

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


@pytest.mark.parametrize("position", [2**31, 10**20])
def test_a_position_beyond_the_column_is_a_400(staff_client, position):
    response = staff_client.post(
        "/api/v1/categories/", {"name": "Poésie", "position": position}, format="json"
    )
    assert response.status_code == 400
    assert response["Content-Type"] == PROBLEM
    assert list(response.json()["errors"]) == ["position"]
    assert not Category.objects.exists()


def test_the_largest_position_is_accepted(staff_client):
    response = staff_client.post(
        "/api/v1/categories/", {"name": "Poésie", "position": 2**31 - 1}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["position"] == 2**31 - 1


def test_moving_to_a_position_beyond_the_column_is_a_400(staff_client, tree):
    response = staff_client.patch("/api/v1/categories/crime/", {"position": 2**31}, format="json")
    assert response.status_code == 400
    tree["crime"].refresh_from_db()
    assert tree["crime"].position == 0
