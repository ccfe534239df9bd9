import pytest

pytestmark = pytest.mark.django_db


def obtain(api_client, email, password):
    return api_client.post("/api/v1/auth/token/", {"email": email, "password": password})


def test_obtain_returns_an_access_and_a_refresh_token(api_client, user, password):
    response = obtain(api_client, user.email.upper(), password)
    assert response.status_code == 200, response.content
    assert set(response.json()) == {"access", "refresh"}


def test_access_token_authenticates_api_requests(api_client, user, password):
    access = obtain(api_client, user.email, password).json()["access"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    # An authenticated request gets past authentication to the (missing) route.
    assert api_client.get("/api/v1/").status_code == 200


def test_wrong_password_is_401_problem(api_client, user):
    response = obtain(api_client, user.email, "wrong")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"


def test_login_updates_last_login(api_client, user, password):
    assert user.last_login is None
    obtain(api_client, user.email, password)
    user.refresh_from_db()
    assert user.last_login is not None


def test_refresh_rotates_and_spends_the_old_refresh_token(api_client, user, password):
    first = obtain(api_client, user.email, password).json()
    rotated = api_client.post("/api/v1/auth/token/refresh/", {"refresh": first["refresh"]})
    assert rotated.status_code == 200
    assert set(rotated.json()) == {"access", "refresh"}
    assert rotated.json()["refresh"] != first["refresh"]
    replay = api_client.post("/api/v1/auth/token/refresh/", {"refresh": first["refresh"]})
    assert replay.status_code == 401
    assert replay.json()["code"] == "token_not_valid"


def test_token_endpoints_use_the_strict_throttle(api_client, user, settings):
    from rest_framework.throttling import ScopedRateThrottle

    ScopedRateThrottle.THROTTLE_RATES = {**ScopedRateThrottle.THROTTLE_RATES, "auth": "3/min"}
    try:
        statuses = [obtain(api_client, user.email, "wrong").status_code for _ in range(4)]
    finally:
        ScopedRateThrottle.THROTTLE_RATES = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    assert statuses == [401, 401, 401, 429]
