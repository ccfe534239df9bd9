"""Import benchmark: a generated 100,000-row CSV and a 100,000-product ONIX 3.0 file, imported
with the real commands, first into an empty catalogue and then again (nothing changes).

    .venv/bin/python bench/imports.py [--rows 100000] [--keep-files]

Prints rows per second for each run and the peak memory (maximum resident set) of each
command's process: the ONIX reader streams, so its peak must not grow with the file. Uses its
own PostgreSQL database (``BENCH_IMPORTS_DATABASE_URL``, default
postgres://postgres@127.0.0.1:5432/bookstore_bench_imports, created if missing; the books of
a previous run are deleted first, and the database vacuumed) and Redis database 15. Targets 127.0.0.1 only.
"""

import argparse
import csv
import json
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path
from xml.sax.saxutils import escape

from harness import PYTHON, ROOT, bench_env, flush_redis, prepare_database, run_child, setup_django

sys.path.insert(0, str(ROOT))
from apps.catalog.isbn import _isbn13_check_digit

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/bookstore_bench_imports"
FIRST = ["Victor", "Marie", "Jean", "Albert", "Simone", "George", "Émile", "Colette", "Marcel", "Annie"]
LAST = ["Hugo", "Curie", "Giono", "Camus", "Beauvoir", "Sand", "Zola", "Proust", "Ernaux", "Duras"]
WORDS = [
    "nuit",
    "jour",
    "mer",
    "ville",
    "amour",
    "guerre",
    "paix",
    "temps",
    "mémoire",
    "voyage",
    "jardin",
    "silence",
    "lumière",
    "ombre",
]
CATEGORIES = ["Littérature > Romans", "Littérature > Poésie", "Jeunesse > Albums", "Sciences > Physique"]


def isbn13(n: int) -> str:
    first12 = f"979{n:09d}"  # 979 prefix: bench books, never real ones
    return first12 + _isbn13_check_digit(first12)


def book(n: int, rng: random.Random) -> dict[str, str]:
    return {
        "isbn13": isbn13(n),
        "title": " ".join(rng.choice(WORDS) for _ in range(3)).capitalize() + f" {n}",
        "authors": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
        "publisher": rng.choice(["Gallimard", "Actes Sud", "Minuit", "Seuil", "POL"]),
        "year": str(rng.randint(1850, 2025)),
        "language": rng.choice(["fr", "fr", "en"]),
        "price": f"{rng.randint(5, 40)},{rng.choice(['00', '50', '90'])}",
        "stock": str(rng.randint(0, 30)),
        "categories": rng.choice(CATEGORIES),
        "pages": str(rng.randint(80, 900)),
    }


def write_csv(path: Path, rows: int) -> None:
    rng = random.Random(1)
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.DictWriter(stream, fieldnames=list(book(0, rng)), delimiter=";")
        writer.writeheader()
        for n in range(1, rows + 1):  # 979-0000-0000-x would be a placeholder
            writer.writerow(book(n, rng))


def write_onix(path: Path, rows: int, offset: int) -> None:
    rng = random.Random(2)
    with path.open("w", encoding="utf-8") as out:
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
        out.write('<ONIXMessage release="3.0" xmlns="http://ns.editeur.org/onix/3.0/reference">\n')
        out.write(
            "<Header><Sender><SenderName>Bench</SenderName></Sender><SentDateTime>20261201</SentDateTime></Header>\n"
        )
        for n in range(offset, offset + rows):
            b = book(n, rng)
            out.write(
                f"<Product><RecordReference>bench-{n}</RecordReference><NotificationType>03</NotificationType>"
                f"<ProductIdentifier><ProductIDType>15</ProductIDType><IDValue>{b['isbn13']}</IDValue></ProductIdentifier>"
                "<DescriptiveDetail><ProductComposition>00</ProductComposition><ProductForm>BC</ProductForm>"
                f"<TitleDetail><TitleType>01</TitleType><TitleElement><TitleElementLevel>01</TitleElementLevel>"
                f"<TitleText>{escape(b['title'])}</TitleText></TitleElement></TitleDetail>"
                f"<Contributor><SequenceNumber>1</SequenceNumber><ContributorRole>A01</ContributorRole>"
                f"<PersonName>{escape(b['authors'])}</PersonName></Contributor>"
                f"<Language><LanguageRole>01</LanguageRole><LanguageCode>fre</LanguageCode></Language>"
                f"<Extent><ExtentType>00</ExtentType><ExtentValue>{b['pages']}</ExtentValue><ExtentUnit>03</ExtentUnit></Extent>"
                "</DescriptiveDetail>"
                f"<PublishingDetail><Publisher><PublishingRole>01</PublishingRole><PublisherName>{b['publisher']}</PublisherName></Publisher>"
                f"<PublishingDate><PublishingDateRole>01</PublishingDateRole><Date>{b['year']}0101</Date></PublishingDate></PublishingDetail>"
                "<ProductSupply><SupplyDetail><Supplier><SupplierRole>01</SupplierRole><SupplierName>Bench</SupplierName></Supplier>"
                "<ProductAvailability>20</ProductAvailability>"
                f"<Price><PriceType>04</PriceType><PriceAmount>{b['price'].replace(',', '.')}</PriceAmount>"
                "<CurrencyCode>EUR</CurrencyCode><Territory><CountriesIncluded>FR</CountriesIncluded></Territory></Price>"
                "</SupplyDetail></ProductSupply></Product>\n"
            )
        out.write("</ONIXMessage>\n")


def clean() -> None:
    """In a child: delete the bench books of a previous run (979 ISBNs)."""
    setup_django()
    from apps.catalog.models import Book

    Book.objects.filter(isbn13__startswith="979").delete()
    # The deleted rows' space given back, as in a fresh database: a first import into tables
    # and indexes full of dead rows ran 25 % slower (6,151 rows/s fresh, 4,580 after four runs).
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM FULL ANALYZE")


WRAPPER = """
import json, resource, subprocess, sys, time
started = time.monotonic()
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
print(json.dumps({"seconds": time.monotonic() - started, "code": done.returncode,
                  "peak_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
                  "out": done.stdout[-3000:], "err": done.stderr[-3000:]}))
"""


def measured(command: str, path: Path, env: dict[str, str]) -> tuple[float, int, str]:
    """Seconds, the peak RSS (KiB) of the command's own process, and its last output line."""
    done = subprocess.run(  # noqa: S603 (our own interpreter and manage.py)
        [PYTHON, "-c", WRAPPER, PYTHON, "manage.py", command, str(path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if result["code"] != 0:
        raise SystemExit(f"{command} failed:\n{result['out']}\n{result['err']}")
    lines = result["out"].strip().splitlines()
    return result["seconds"], result["peak_kib"], lines[-1] if lines else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--keep-files", action="store_true")
    parser.add_argument("--clean-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.clean_only:
        clean()
        return
    database_url = os.environ.get("BENCH_IMPORTS_DATABASE_URL", DEFAULT_DB)
    env = bench_env(database_url, LOG_LEVEL="ERROR")
    prepare_database(database_url, env)
    flush_redis()
    run_child([__file__, "--clean-only"], env)
    folder = Path(tempfile.mkdtemp(prefix="bench-imports-"))
    csv_file, onix_file = folder / "books.csv", folder / "books.xml"
    write_csv(csv_file, args.rows)
    write_onix(onix_file, args.rows, offset=args.rows + 1)  # other ISBNs than the CSV's
    print(
        f"files: {csv_file} ({csv_file.stat().st_size / 2**20:.0f} MiB), "
        f"{onix_file} ({onix_file.stat().st_size / 2**20:.0f} MiB)"
    )
    print(f"{'run':<24} {'rows/s':>8} {'seconds':>8} {'peak MiB':>9}  summary")
    for command, path in (("import_books", csv_file), ("import_onix", onix_file)):
        for run in ("first", "again"):
            elapsed, peak, last = measured(command, path, env)
            label = f"{command} {run}"
            print(f"{label:<24} {args.rows / elapsed:>8.0f} {elapsed:>8.1f} {peak / 1024:>9.0f}  {last}")
    if not args.keep_files:
        csv_file.unlink()
        onix_file.unlink()
        folder.rmdir()


if __name__ == "__main__":
    sys.exit(main())
