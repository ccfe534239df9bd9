"""The import commands as an operator runs them: summaries, idempotence, dry run, strict, the
reject report, files that cannot be read, and Ctrl-C leaving whole batches only."""

import os
import signal
import subprocess
import sys
import time
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from apps.catalog import services
from apps.catalog.models import Book, SearchPosting
from tests.factories import _isbn13 as isbn13
from tests.servers import the_test_database_url
from tests.services import requires_postgres

pytestmark = pytest.mark.django_db

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).resolve().parents[2]
HEADER = "isbn;titre;auteur;prix;stock\n"


def csv_file(tmp_path: Path, rows: list[str], name: str = "livres.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    return path


def good(n: int) -> str:
    return f"{isbn13(n)};Livre {n};Victor Hugo;12,90 €;3\n"


def run(command: str, *args) -> str:
    out = StringIO()
    call_command(command, *map(str, args), stdout=out)
    return out.getvalue()


def test_import_books_twice_creates_nothing_the_second_time(tmp_path):
    path = csv_file(tmp_path, [good(n) for n in range(1, 6)])

    first, second = run("import_books", path), run("import_books", path)

    assert "5 created, 0 updated, 0 unchanged" in first
    assert "0 created, 0 updated, 5 unchanged" in second
    assert Book.objects.filter(isbn13=isbn13(3), title="Livre 3").exists()


def test_a_dry_run_writes_nothing(tmp_path):
    out = run("import_books", csv_file(tmp_path, [good(1), good(2)]), "--dry-run")

    assert "dry run (nothing written): 2 rows" in out
    assert "2 created" in out
    assert not Book.objects.exists()


def test_bad_rows_are_reported_with_their_lines_and_the_good_ones_imported(tmp_path):
    path = csv_file(tmp_path, [good(1), "9780000000001;Faux;X;10;1\n", good(2), ";Sans ISBN;X;10;1\n"])
    report = tmp_path / "rejets.csv"

    out = run("import_books", path, "--report", report)

    assert "2 created" in out
    assert "rejected line 3: isbn:" in out
    assert "rejected line 5: isbn: No ISBN." in out
    lines = report.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "source,field,reason,value"
    assert [line.split(",")[0] for line in lines[1:]] == ["line 3", "line 5"]


def test_strict_refuses_the_whole_file(tmp_path):
    path = csv_file(tmp_path, [good(1), ";Sans ISBN;X;10;1\n"])

    with pytest.raises(CommandError, match="--strict: 1 bad row"):
        run("import_books", path, "--strict")
    assert not Book.objects.exists()


def test_a_file_not_in_its_encoding_is_refused_naming_the_line_and_nothing_is_imported(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes((HEADER + good(1) + good(2)).encode() + f"{isbn13(3)};Élan;X;1;1\n".encode("latin-1"))

    with pytest.raises(CommandError, match="line 4"):
        run("import_books", path)
    assert not Book.objects.exists()
    assert "3 created" in run("import_books", path, "--encoding", "latin-1")


def test_import_onix_reads_the_feed_and_a_delete_notice_withdraws(tmp_path):
    out = run("import_onix", DATA / "onix" / "reference_3.0.xml")

    assert "created" in out
    assert Book.objects.exists()
    again = run("import_onix", DATA / "onix" / "reference_3.0.xml")
    assert " 0 created" in again


def test_a_feed_that_is_not_well_formed_ends_with_a_clear_message(tmp_path):
    with pytest.raises(CommandError, match="not well-formed XML at line"):
        run("import_onix", DATA / "onix" / "not_well_formed.xml")


@requires_postgres  # the import runs in a process of its own, which must see the test database
@pytest.mark.django_db(transaction=True)
def test_ctrl_c_mid_file_leaves_whole_batches_only(tmp_path):
    path = csv_file(tmp_path, [good(n) for n in range(1, 40_001)])
    env = {**os.environ, "DATABASE_URL": the_test_database_url()}
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, "manage.py", "import_books", str(path), "--batch-size", "500"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while Book.objects.count() < 1000 and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()

    imported = Book.objects.count()
    assert process.returncode != 0, out
    assert "Interrupted" in out + err
    assert 0 < imported < 40_000
    assert imported % 500 == 0, imported  # whole batches, never part of one


def test_imported_books_are_found_by_title_author_and_publisher(tmp_path, api_client):
    path = tmp_path / "books.csv"
    path.write_text(
        "isbn;titre;auteur;éditeur;prix\n"
        f"{isbn13(1)};Les Misérables;Victor Hugo;Gallimard;12,90\n"
        f"{isbn13(2)};Germinal;Émile Zola;Fasquelle;9,50\n",
        encoding="utf-8",
    )
    run("import_books", path)

    def found(query: str) -> list[str]:
        return [book["title"] for book in api_client.get("/api/v1/books/", {"q": query}).json()["results"]]

    assert found("misérables") == ["Les Misérables"]
    assert found("zola") == ["Germinal"]
    assert found("fasquelle") == ["Germinal"]


def test_an_imported_books_index_is_the_one_the_catalogue_builds(tmp_path):
    """New books are indexed from the rows the importer has in hand (not read back): the
    postings must be those the services write, and follow a re-import that changes the authors."""

    def postings(book_id: int) -> set[tuple[str, int, int, int]]:
        return set(
            SearchPosting.objects.filter(book_id=book_id).values_list(
                "term__text", "term__kind", "field", "length"
            )
        )

    path = csv_file(tmp_path, [f"{isbn13(1)};Les Misérables;Victor Hugo / Émile Zola;12,90;3\n"])
    run("import_books", path)
    book = Book.objects.get()
    written = postings(book.pk)
    services.book_search_refresh(book_ids=[book.pk])
    assert postings(book.pk) == written
    assert {"zola", "miserables", "miser"} <= {text for text, *_ in written}

    path = csv_file(tmp_path, [f"{isbn13(1)};Les Misérables;George Sand;12,90;3\n"])
    run("import_books", path)
    texts = {text for text, *_ in postings(book.pk)}
    assert "sand" in texts
    assert "zola" not in texts


def manage(*args: object) -> subprocess.CompletedProcess:
    """A command in a process of its own, as an operator runs it: the file is then read by a
    forked reader process (``catalog.imports.ahead``), not by a thread as in-process."""
    return subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, "manage.py", *map(str, args)],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": the_test_database_url()},
        capture_output=True,
        text=True,
        timeout=120,
    )


@requires_postgres  # the command runs in a process of its own, which must see the test database
@pytest.mark.django_db(transaction=True)
def test_a_file_read_by_a_reader_process_is_imported_whole_and_its_errors_end_cleanly(tmp_path):
    path = csv_file(tmp_path, [good(n) for n in range(1, 1202)])  # more than a chunk, several batches

    done = manage("import_books", path, "--batch-size", "500")
    assert done.returncode == 0, done.stderr
    assert "1201 created" in done.stdout
    assert Book.objects.count() == 1201
    assert "0 created" in manage("import_books", path).stdout

    broken = manage(
        "import_onix", DATA / "onix" / "not_well_formed.xml", "--report", tmp_path / "rejects.csv"
    )
    assert broken.returncode == 1
    assert "not well-formed XML at line" in broken.stderr
    assert "Traceback" not in broken.stderr, broken.stderr
    assert (tmp_path / "rejects.csv").read_text().startswith("source,field,reason,value")


def test_a_re_import_that_changes_a_book_moves_its_updated_at(tmp_path):
    run("import_books", csv_file(tmp_path, [f"{isbn13(1)};Livre;Victor Hugo;12,90 €;3\n"]))
    before = Book.objects.get().updated_at

    run("import_books", csv_file(tmp_path, [f"{isbn13(1)};Livre;Victor Hugo;14,90 €;3\n"]))

    assert Book.objects.get().updated_at > before
