"""The rules every import follows, whatever the file: upsert by ISBN-13, merge, rejects, dry run,
strict, whole batches only."""

import io
from datetime import date
from decimal import Decimal

import pytest

from apps.catalog.imports.records import BookRecord, Reject
from apps.catalog.imports.runner import ImportRefused, import_run
from apps.catalog.models import Author, Book
from apps.categories.models import Category
from tests.factories import _isbn13

pytestmark = pytest.mark.django_db


def record(n: int, **fields) -> BookRecord:
    defaults = {
        "title": f"Livre {n}",
        "authors": ("Victor Hugo",),
        "publisher": "Gallimard",
        "price": Decimal("9.90"),
        "stock": 3,
        "language": "fr",
        "categories": ("Romans > Classiques",),
        "publication_date": date(1862, 1, 1),
    }
    return BookRecord(isbn13=_isbn13(n), source=f"line {n + 1}", **{**defaults, **fields})


def run(items, **options):
    out = io.StringIO()
    summary = import_run(read=lambda: list(items), out=out, label="test", interactive=False, **options)
    return summary, out.getvalue()


def test_a_file_imported_twice_changes_nothing_the_second_time():
    items = [record(n) for n in range(5)]

    first, _ = run(items)
    second, _ = run(items)

    assert (first.created, first.updated, first.unchanged) == (5, 0, 0)
    assert (second.created, second.updated, second.unchanged) == (0, 0, 5)
    book = Book.objects.get(isbn13=_isbn13(3))
    assert [link.author.name for link in book.book_authors.all()] == ["Victor Hugo"]
    assert [c.name for c in book.categories.all()] == ["Classiques"]
    assert Category.objects.get(name="Classiques").parent.name == "Romans"
    assert Author.objects.filter(name="Victor Hugo").count() == 1


def test_a_change_updates_only_that_book_and_keeps_what_the_file_does_not_say():
    run([record(1), record(2)])

    summary, _ = run([record(1, price=Decimal("12.50"), stock=None, description=""), record(2)])

    assert (summary.updated, summary.unchanged) == (1, 1)
    book = Book.objects.get(isbn13=_isbn13(1))
    assert (book.price, book.stock) == (Decimal("12.50"), 3)


def test_a_book_listed_twice_is_merged_and_reported():
    summary, out = run([record(1, stock=2), record(2), record(1, stock=7, description="Préface")])

    assert (summary.created, summary.merged) == (2, 1)
    assert "merged line 2" in out or "merged line" in out
    book = Book.objects.get(isbn13=_isbn13(1))
    assert (book.stock, book.description) == (7, "Préface")


def test_rejects_are_reported_and_good_rows_imported(tmp_path):
    report = tmp_path / "rejects.csv"
    bad = Reject(
        source="line 3", field="isbn", reason="The check digit of this ISBN-13 is wrong.", value="978x"
    )

    summary, _ = run([record(1), bad, record(2)], report=report)

    assert (summary.created, summary.rejected) == (2, 1)
    assert report.read_text().splitlines() == [
        "source,field,reason,value",
        "line 3,isbn,The check digit of this ISBN-13 is wrong.,978x",
    ]


def test_strict_refuses_the_whole_file_for_one_bad_row():
    with pytest.raises(ImportRefused):
        run([record(1), Reject(source="line 3", field="title", reason="No title.")], strict=True)

    assert not Book.objects.exists()


def test_a_dry_run_writes_nothing_and_says_what_would_change():
    summary, _ = run([record(n) for n in range(3)], dry_run=True)

    assert summary.created == 3
    assert not Book.objects.exists()
    assert not Author.objects.exists()


def test_a_book_without_a_usable_price_is_imported_not_for_sale():
    run([record(1, price=None)])

    book = Book.objects.get(isbn13=_isbn13(1))
    assert book.price is None
    assert not book.for_sale


def test_a_withdrawn_book_is_deactivated():
    run([record(1)])

    summary, _ = run([BookRecord(isbn13=_isbn13(1), source="record 1", withdrawn=True)])

    assert summary.withdrawn == 1
    assert not Book.objects.get(isbn13=_isbn13(1)).is_active


def test_an_interruption_leaves_whole_batches_only():
    def read():
        for n in range(25):
            if n == 17:
                raise KeyboardInterrupt
            yield record(n)

    out = io.StringIO()
    summary = import_run(read=read, out=out, label="test", interactive=False, batch_size=5)

    assert summary.interrupted
    assert Book.objects.count() == 15  # three whole batches of five; the fourth rolled back
    assert summary.batches == 3


def test_an_author_written_in_another_case_is_the_same_author():
    run([record(1, authors=("Victor Hugo",))])

    run([record(2, authors=("VICTOR HUGO",))])

    assert Author.objects.count() == 1
    assert Book.objects.get(isbn13=_isbn13(2)).book_authors.get().author.name == "Victor Hugo"


def test_a_new_author_whose_slug_is_taken_gets_the_next_free_one():
    Author.objects.create(name="Victor-Hugo", slug="victor-hugo")
    Author.objects.create(name="Victor Hugo, fils", slug="victor-hugo-2")
    Author.objects.create(name="Victor Hugo 2-3", slug="victor-hugo-2-3")

    run([record(1, authors=("Victor Hugo", "Victor  Hugo!")), record(2, authors=("Émile Zola",))])

    slugs = dict(Author.objects.values_list("name", "slug"))
    assert {slugs["Victor Hugo"], slugs["Victor  Hugo!"]} == {"victor-hugo-3", "victor-hugo-4"}
    assert slugs["Émile Zola"] == "emile-zola"


def test_a_terminal_gets_a_progress_bar_and_a_log_gets_plain_lines(monkeypatch):
    from apps.catalog.imports import runner

    monkeypatch.setattr(runner, "PROGRESS_EVERY", 0.0)
    plain = io.StringIO()
    import_run(read=lambda: [record(1), record(2)], out=plain, label="livres.csv", interactive=False)
    bar = io.StringIO()
    import_run(read=lambda: [record(3)], out=bar, label="livres.csv", interactive=True)

    assert "livres.csv: 1 rows" in plain.getvalue()
    assert "rejected" in plain.getvalue()
    assert "livres.csv: 1 rows" in bar.getvalue()
    assert "\x1b[" in bar.getvalue()  # drawn in place, with the terminal's control codes
