"""The settings module boots on embedded defaults and guards production."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STRONG_KEY = "k3y-" + "a1B2c3D4e5F6g7H8i9J0kLmNoPqRsTuVwXyZ!@#$%^&*()_+=" * 2


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - fixed command, test-controlled arguments
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def clean_env(**extra: str) -> dict[str, str]:
    """The test process's environment without any of the shop's configuration."""
    keep = {"PATH", "HOME", "LANG", "PYTHONPATH", "VIRTUAL_ENV", "TMPDIR"}
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update(extra)
    return env


def test_embedded_defaults_boot_with_nothing_configured():
    result = manage("check", env=clean_env(PYTHONWARNINGS="error"))
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL"])
def test_production_refuses_to_start_without_a_secret(missing):
    env = clean_env(
        DJANGO_ENV="production",
        SECRET_KEY=STRONG_KEY,
        ALLOWED_HOSTS="shop.example.com",
        DATABASE_URL="postgres://shop@db.example.com:5432/shop",
    )
    del env[missing]
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "DJANGO_ENV=production needs these environment variables" in result.stderr
    assert missing in result.stderr.splitlines()[-1]


def test_production_settings_pass_the_deployment_checklist():
    env = clean_env(
        DJANGO_ENV="production",
        SECRET_KEY=STRONG_KEY,
        ALLOWED_HOSTS="shop.example.com",
        DATABASE_URL="postgres://shop@db.example.com:5432/shop",
    )
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_unknown_environment_name_is_refused():
    result = manage("check", env=clean_env(DJANGO_ENV="staging"))
    assert result.returncode != 0
    assert "DJANGO_ENV must be 'development' or 'production'" in result.stderr


def test_replica_urls_become_replica_aliases_mirrored_in_tests_and_routed():
    show = (
        "from django.conf import settings as s; "
        "print(sorted(s.DATABASES), s.DATABASE_ROUTERS, "
        "[(s.DATABASES[a]['PORT'], s.DATABASES[a]['TEST']['MIRROR']) for a in s.DATABASES if a != 'default'])"
    )
    none = manage(
        "shell", "--no-imports", "-c", show, env=clean_env(DATABASE_URL="postgres://u@primary:5432/shop")
    )
    assert none.returncode == 0, none.stderr
    assert none.stdout.strip() == "['default'] [] []"

    two = manage(
        "shell",
        "--no-imports",
        "-c",
        show,
        env=clean_env(
            DATABASE_URL="postgres://u@primary:5432/shop",
            DATABASE_REPLICA_URLS="postgres://u@replica-a:5433/shop,postgres://u@replica-b:5434/shop",
        ),
    )
    assert two.returncode == 0, two.stderr
    assert two.stdout.strip() == (
        "['default', 'replica1', 'replica2'] ['bookstore.replicas.ReplicaRouter'] "
        "[(5433, 'default'), (5434, 'default')]"
    )


def test_the_prepare_threshold_comes_from_the_environment_and_empty_prepares_nothing():
    show = (
        "from django.conf import settings as s; print(s.DATABASES['default']['OPTIONS']['prepare_threshold'])"
    )
    url = "postgres://u@primary:5432/shop"
    default = manage("shell", "--no-imports", "-c", show, env=clean_env(DATABASE_URL=url))
    assert default.returncode == 0, default.stderr
    assert default.stdout.strip() == "5"
    off = manage(
        "shell", "--no-imports", "-c", show, env=clean_env(DATABASE_URL=url, DB_PREPARE_THRESHOLD="")
    )
    assert off.returncode == 0, off.stderr
    assert off.stdout.strip() == "None"
