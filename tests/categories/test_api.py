import pytest

from apps.categories.models import Category

pytestmark = pytest.mark.django_db

CATEGORIES = "/api/v1/categories/"


def test_tree_is_nested_with_book_counts_including_descendants(api_client, catalogue):
    roots = api_client.get(CATEGORIES).json()
    assert [root["slug"] for root in roots] == ["fiction", "non-fiction"]
    fiction = roots[0]
    # Dune (space opera), the Hitchhiker (sf), Crónica (crime); the inactive Chapterhouse is not counted.
    assert fiction["book_count"] == 3
    # Siblings by position, then name.
    assert [(c["slug"], c["book_count"]) for c in fiction["children"]] == [("crime", 1), ("sf", 2)]
    assert [(c["slug"], c["book_count"]) for c in fiction["children"][1]["children"]] == [("space-opera", 1)]


def test_the_tree_answer_is_the_node_serializer_s_output(api_client, catalogue):
    from apps.categories.selectors import category_tree
    from apps.categories.serializers import CategoryNodeSerializer
    from bookstore.api.renderers import OrjsonRenderer

    expected = OrjsonRenderer().render(CategoryNodeSerializer(category_tree(), many=True).data)
    assert api_client.get("/api/v1/categories/").content == expected


def test_a_book_in_a_parent_and_its_child_counts_once(api_client, catalogue, tree):
    catalogue["dune"].categories.add(tree["sf"], tree["fiction"])
    fiction = api_client.get(CATEGORIES).json()[0]
    assert fiction["book_count"] == 3
    assert {c["slug"]: c["book_count"] for c in fiction["children"]}["sf"] == 2


def test_detail_has_breadcrumb_and_children(api_client, catalogue):
    body = api_client.get(f"{CATEGORIES}space-opera/").json()
    assert body["ancestors"] == [
        {"slug": "fiction", "name": "Fiction"},
        {"slug": "sf", "name": "Science-fiction"},
    ]
    assert body["parent"] == "sf"
    assert body["depth"] == 2
    assert body["book_count"] == 1
    sf = api_client.get(f"{CATEGORIES}sf/").json()
    assert sf["children"] == [{"slug": "space-opera", "name": "Space opera", "position": 0, "book_count": 1}]


def test_unknown_category_is_a_404_problem(api_client, tree):
    response = api_client.get(f"{CATEGORIES}nowhere/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"


def test_staff_creates_a_subcategory(staff_client, tree):
    response = staff_client.post(CATEGORIES, {"name": "Cyberpunk", "parent": "sf"}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["slug"] == "cyberpunk"
    created = Category.objects.get(slug="cyberpunk")
    assert created.path == f"{tree['fiction'].pk}/{tree['sf'].pk}/{created.pk}/"
    assert created.depth == 2


def test_moving_a_subtree_moves_its_descendants(staff_client, api_client, catalogue, tree):
    response = staff_client.patch(f"{CATEGORIES}sf/", {"parent": "non-fiction"}, format="json")
    assert response.status_code == 200, response.content
    space = Category.objects.get(slug="space-opera")
    assert space.path == f"{tree['non-fiction'].pk}/{tree['sf'].pk}/{space.pk}/"
    assert space.depth == 2
    assert [
        b["title"] for b in api_client.get("/api/v1/books/", {"category": "non-fiction"}).json()["results"]
    ] == [
        "Dune Messiah",
        "The Salmon of Doubt",
        "The Ultimate Hitchhiker's Guide to the Galaxy",
    ]
    response = staff_client.patch(f"{CATEGORIES}sf/", {"parent": None}, format="json")
    assert response.json()["depth"] == 0
    assert Category.objects.get(slug="space-opera").depth == 1


@pytest.mark.parametrize("new_parent", ["fiction", "sf", "space-opera"])
def test_moving_under_itself_or_a_descendant_is_refused(staff_client, tree, new_parent):
    paths = dict(Category.objects.values_list("slug", "path"))
    response = staff_client.patch(f"{CATEGORIES}fiction/", {"parent": new_parent}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "category_cycle"
    assert list(response.json()["errors"]) == ["parent"]
    assert dict(Category.objects.values_list("slug", "path")) == paths


def test_deleting_a_category_with_children_or_books_is_refused(staff_client, catalogue):
    response = staff_client.delete(f"{CATEGORIES}sf/")
    assert response.status_code == 409
    assert response.json()["code"] == "category_not_empty"
    assert response.json()["children"] == 1
    response = staff_client.delete(f"{CATEGORIES}crime/")
    assert response.status_code == 409
    assert response.json()["books"] == 1
    assert Category.objects.filter(slug__in=["sf", "crime"]).count() == 2


def test_deleting_an_empty_category(staff_client, tree):
    assert staff_client.delete(f"{CATEGORIES}non-fiction/").status_code == 204
    assert not Category.objects.filter(slug="non-fiction").exists()


def test_customers_and_anonymous_cannot_write(api_client, user_client, tree):
    assert api_client.post(CATEGORIES, {"name": "X"}, format="json").status_code == 401
    assert user_client.post(CATEGORIES, {"name": "X"}, format="json").status_code == 403
    assert user_client.patch(f"{CATEGORIES}sf/", {"parent": None}, format="json").status_code == 403
    assert user_client.delete(f"{CATEGORIES}non-fiction/").status_code == 403


def test_duplicate_slug_is_a_field_error(staff_client, tree):
    response = staff_client.post(CATEGORIES, {"name": "Other", "slug": "sf"}, format="json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["slug"]
