# The catalogue's fixtures (a small category tree and five real books), shared, not copied.
from tests.catalog.conftest import catalogue, tree  # noqa: F401

# The browser tests' fixtures (tests/storefront/browser.py).
from .browser import browser, customer, laptop, page, phone, playwright, server, shelf, shot, site  # noqa: F401
