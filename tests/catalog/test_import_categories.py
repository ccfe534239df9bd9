"""``import_categories``: a tree from CSV (paths, or parent and name) or JSON, created once."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from apps.categories.models import Category

pytestmark = pytest.mark.django_db


def run(path, *args) -> str:
    out = StringIO()
    call_command("import_categories", str(path), *args, stdout=out)
    return out.getvalue()


def tree() -> set[tuple[str, str | None]]:
    return {(c.name, c.parent.name if c.parent else None) for c in Category.objects.select_related("parent")}


def test_paths_from_csv_make_the_tree_once(tmp_path):
    file = tmp_path / "rayons.csv"
    file.write_text("path\nLittérature > Romans\nLittérature > Poésie\nJeunesse\n", encoding="utf-8")

    first, second = run(file), run(file)

    assert tree() == {
        ("Littérature", None),
        ("Romans", "Littérature"),
        ("Poésie", "Littérature"),
        ("Jeunesse", None),
    }
    assert "4 created" in first
    assert "0 created" in second


def test_parent_and_name_columns_and_semicolons(tmp_path):
    file = tmp_path / "rayons.csv"
    file.write_text("name;parent\nSciences;\nPhysique;Sciences\nQuantique;Physique\n", encoding="utf-8")

    run(file)

    assert tree() == {("Sciences", None), ("Physique", "Sciences"), ("Quantique", "Physique")}


def test_nested_json_and_a_dry_run(tmp_path):
    file = tmp_path / "rayons.json"
    file.write_text(json.dumps([{"name": "Arts", "children": [{"name": "Cinéma"}, "Arts > Musique"]}]))

    assert "3 created" in run(file, "--dry-run")
    assert not Category.objects.exists()
    run(file)
    assert tree() == {("Arts", None), ("Cinéma", "Arts"), ("Musique", "Arts")}


def test_a_file_without_the_columns_or_a_name_is_refused_with_its_line(tmp_path):
    no_columns = tmp_path / "a.csv"
    no_columns.write_text("rayon\nRomans\n", encoding="utf-8")
    empty = tmp_path / "b.csv"
    empty.write_text("path\nRomans\nRomans >\n", encoding="utf-8")

    with pytest.raises(CommandError, match="'path' column"):
        run(no_columns)
    with pytest.raises(CommandError, match="line 3"):
        run(empty)
    assert not Category.objects.exists()
