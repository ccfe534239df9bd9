import threading

import pytest
from django.db import connection

from apps.categories.exceptions import CategoryCycle, CategorySlugTaken
from apps.categories.models import Category
from apps.categories.services import MAX_DEPTH, category_create, category_update
from tests.services import requires_postgres

CATEGORIES = "/api/v1/categories/"


def chain(length: int) -> list[Category]:
    """``length`` categories, each under the one before."""
    nodes = [category_create(name="Level 0", slug="level-0")]
    for depth in range(1, length):
        nodes.append(category_create(name=f"Level {depth}", slug=f"level-{depth}", parent=nodes[-1]))
    return nodes


@pytest.mark.django_db
def test_a_category_below_the_deepest_level_is_refused(staff_client):
    deepest = chain(MAX_DEPTH + 1)[-1]
    assert deepest.depth == MAX_DEPTH
    response = staff_client.post(CATEGORIES, {"name": "Too deep", "parent": deepest.slug}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "category_too_deep"
    assert list(response.json()["errors"]) == ["parent"]
    assert not Category.objects.filter(name="Too deep").exists()


@pytest.mark.django_db
def test_moving_a_subtree_past_the_deepest_level_is_refused(staff_client):
    nodes = chain(MAX_DEPTH)  # depths 0 … MAX_DEPTH - 1
    branch = category_create(name="Branch", slug="branch")
    category_create(name="Leaf", slug="leaf", parent=branch)
    response = staff_client.patch(f"{CATEGORIES}branch/", {"parent": nodes[-1].slug}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "category_too_deep"
    assert Category.objects.get(slug="leaf").path == f"{branch.pk}/{Category.objects.get(slug='leaf').pk}/"
    # One level higher fits exactly.
    assert (
        staff_client.patch(f"{CATEGORIES}branch/", {"parent": nodes[-2].slug}, format="json").status_code
        == 200
    )
    assert Category.objects.get(slug="leaf").depth == MAX_DEPTH


@pytest.mark.django_db
def test_a_slug_taken_behind_the_serializers_back_is_a_clear_error():
    category_create(name="Poésie", slug="poesie")
    with pytest.raises(CategorySlugTaken) as raised:
        category_create(name="Poésie bis", slug="poesie")
    assert raised.value.errors == {"slug": ["A category with this slug already exists."]}
    other = category_create(name="Théâtre", slug="theatre")
    with pytest.raises(CategorySlugTaken):
        category_update(category=other, slug="poesie")
    assert Category.objects.filter(slug="poesie").count() == 1


def _move(category: Category, parent: Category, barrier: threading.Barrier, outcomes: list[str]) -> None:
    try:
        barrier.wait(timeout=10)
        category_update(category=category, parent=parent)
        outcomes.append("moved")
    except CategoryCycle:
        outcomes.append("cycle")
    finally:
        connection.close()


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_two_crossed_moves_cannot_make_a_cycle():
    """A under B and B under A at once: one wins, the other sees the new path and is refused."""
    for round_ in range(10):
        a = category_create(name=f"A{round_}", slug=f"a-{round_}")
        b = category_create(name=f"B{round_}", slug=f"b-{round_}")
        barrier, outcomes = threading.Barrier(2), []
        threads = [
            threading.Thread(target=_move, args=(a, b, barrier, outcomes)),
            threading.Thread(target=_move, args=(b, a, barrier, outcomes)),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert sorted(outcomes) == ["cycle", "moved"]
        a.refresh_from_db()
        b.refresh_from_db()
        # Exactly one is the other's parent; neither is its own ancestor.
        assert (a.parent_id, b.parent_id) in {(b.pk, None), (None, a.pk)}
