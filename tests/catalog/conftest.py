import pytest

from tests.factories import catalogue_make, category_tree_make


@pytest.fixture
def tree(db):
    """fiction > (sf > space-opera, crime); non-fiction."""
    return category_tree_make()


@pytest.fixture
def catalogue(tree):
    """Five real books, written through the services (search documents included)."""
    return catalogue_make(tree)
