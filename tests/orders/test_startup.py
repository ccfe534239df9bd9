"""The payment configuration is checked when the project starts."""

from tests.core.test_settings import STRONG_KEY, clean_env, manage

PRODUCTION = {
    "DJANGO_ENV": "production",
    "SECRET_KEY": STRONG_KEY,
    "ALLOWED_HOSTS": "shop.example.com",
    "DATABASE_URL": "postgres://shop@db.example.com:5432/shop",
}


def test_production_refuses_the_dummy_provider():
    result = manage("check", env=clean_env(**PRODUCTION, PAYMENT_PROVIDERS="dummy"))
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "dummy payment provider" in result.stderr
    assert "DJANGO_ENV=production" in result.stderr.splitlines()[-1]


def test_production_starts_without_the_dummy_provider():
    result = manage("check", env=clean_env(**PRODUCTION))
    assert result.returncode == 0, result.stderr


def test_an_unknown_provider_name_is_refused_at_startup():
    result = manage("check", env=clean_env(PAYMENT_PROVIDERS="dummy,bitcoin"))
    assert result.returncode != 0
    assert "bitcoin" in result.stderr.splitlines()[-1]


def test_development_enables_the_dummy_provider_by_default():
    result = manage(
        "shell", "-c", "from django.conf import settings; print(settings.PAYMENT_PROVIDERS)", env=clean_env()
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "['dummy']"


STRIPE = {
    "STRIPE_SECRET_KEY": "sk_live_x",
    "STRIPE_PUBLISHABLE_KEY": "pk_live_x",
    "STRIPE_WEBHOOK_SECRET": "whsec_x",
}
PAYPAL = {"PAYPAL_CLIENT_ID": "id", "PAYPAL_CLIENT_SECRET": "secret", "PAYPAL_WEBHOOK_ID": "WH-1"}


def providers(**env: str) -> str:
    result = manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.PAYMENT_PROVIDERS)",
        env=clean_env(**env),
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_the_providers_offered_are_those_configured():
    assert providers(**PRODUCTION, **STRIPE) == "['stripe']"
    assert providers(**PRODUCTION, **STRIPE, **PAYPAL) == "['stripe', 'paypal']"
    assert providers(**PAYPAL) == "['paypal', 'dummy']"


def test_production_with_stripe_passes_the_deployment_checklist():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=clean_env(**PRODUCTION, **STRIPE))
    assert result.returncode == 0, result.stderr


def test_a_provider_missing_a_secret_is_refused_at_startup():
    result = manage("check", env=clean_env(**PRODUCTION, STRIPE_SECRET_KEY="sk_live_x"))
    assert result.returncode != 0
    assert "STRIPE_PUBLISHABLE_KEY, STRIPE_WEBHOOK_SECRET" in result.stderr.splitlines()[-1]
    result = manage("check", env=clean_env(PAYMENT_PROVIDERS="paypal"))
    assert result.returncode != 0
    assert "PAYPAL_CLIENT_ID, PAYPAL_CLIENT_SECRET, PAYPAL_WEBHOOK_ID" in result.stderr.splitlines()[-1]
