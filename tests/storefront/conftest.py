# The catalogue's fixtures (a small category tree and five real books), shared, not copied.
from tests.catalog.conftest import catalogue, tree  # noqa: F401
