from tests.catalog.conftest import catalogue, tree  # noqa: F401  (shared fixtures)
