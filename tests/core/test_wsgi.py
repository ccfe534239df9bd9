"""The WSGI module a server loads: Django set up, the URLconf imported and the objects of both
frozen out of the garbage collector's generations (``bookstore/wsgi.py``)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import gc, sys
import bookstore.wsgi
print(gc.get_freeze_count(), len(gc.get_objects()), "apps.catalog.views" in sys.modules)
"""


def test_loading_the_application_freezes_what_django_and_the_urlconf_made():
    # A process of its own, as a gunicorn worker loads the module (the test run's own heap is
    # not the point).
    done = subprocess.run(  # noqa: S603 (this interpreter)
        [sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True
    )
    frozen, tracked, urlconf_imported = done.stdout.split()
    assert urlconf_imported == "True"
    # Django, DRF and the shop's modules: tens of thousands of objects, frozen; what the
    # collector still tracks is what the probe itself made since.
    assert int(frozen) > 50_000
    assert int(tracked) < int(frozen) / 10
