"""The CSV reader of ``import_books``, alone: files in, ``BookRecord``s and ``Reject``s out (no
database)."""

import codecs
import tracemalloc
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from apps.catalog.imports.csvfile import CsvBooks, read_books_csv
from apps.catalog.imports.csvfile.values import _ISO_639_2_TO_1
from apps.catalog.imports.records import BookRecord, ImportFileError, Reject
from apps.catalog.languages import ISO_639_1
from apps.catalog.models import BookFormat

DATA = Path(__file__).parent / "data" / "imports"
HOBBIT = "9780261103573"
HP = "9780747532699"


def write(tmp_path: Path, text: str, *, encoding: str = "utf-8", name: str = "books.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def read(tmp_path: Path, text: str, *, encoding: str = "utf-8", **options) -> list[BookRecord | Reject]:
    options.setdefault("currency", "EUR")
    return list(read_books_csv(write(tmp_path, text, encoding=encoding), encoding=encoding, **options))


def one(tmp_path: Path, header: str, values: str, **options) -> BookRecord | Reject:
    (result,) = read(tmp_path, f"{header}\n{values}\n", **options)
    return result


def book(tmp_path: Path, header: str, values: str, **options) -> BookRecord:
    result = one(tmp_path, header, values, **options)
    assert isinstance(result, BookRecord), result
    return result


def field_of(tmp_path: Path, column: str, value: str, attribute: str, **options):
    """What a column (next to an ISBN and a title) gives, and the notes it left."""
    record = book(tmp_path, f"isbn;title;{column}", f"{HOBBIT};The Hobbit;{value}", **options)
    return getattr(record, attribute), record.notes


# --- Header aliases ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "value", "attribute", "expected"),
    [
        ("subtitle", "or There and Back Again", "subtitle", "or There and Back Again"),
        ("authors", "J.R.R. Tolkien", "authors", ("J.R.R. Tolkien",)),
        ("author", "J.R.R. Tolkien", "authors", ("J.R.R. Tolkien",)),
        ("publisher", "HarperCollins", "publisher", "HarperCollins"),
        ("year", "1995", "publication_date", date(1995, 1, 1)),
        ("publication_date", "1995-06-01", "publication_date", date(1995, 6, 1)),
        ("original_publication_year", "1937", "publication_date", date(1937, 1, 1)),
        ("date", "1995-06-01", "publication_date", date(1995, 6, 1)),
        ("language", "en", "language", "en"),
        ("language_code", "eng", "language", "en"),
        ("price", "12.90", "price", Decimal("12.90")),
        ("stock", "4", "stock", 4),
        ("quantity", "4", "stock", 4),
        ("categories", "Fiction > Fantasy", "categories", ("Fiction > Fantasy",)),
        ("category", "Fiction > Fantasy", "categories", ("Fiction > Fantasy",)),
        ("description", "A hobbit.", "description", "A hobbit."),
        ("summary", "A hobbit.", "description", "A hobbit."),
        ("cover_url", "https://covers.example/h.jpg", "cover_url", "https://covers.example/h.jpg"),
        ("image_url", "https://covers.example/h.jpg", "cover_url", "https://covers.example/h.jpg"),
        ("pages", "310", "pages", 310),
        ("num_pages", "310", "pages", 310),
        ("format", "paperback", "format", BookFormat.PAPERBACK),
        ("binding", "Hardcover", "format", BookFormat.HARDCOVER),
    ],
)
def test_english_headers_are_matched(tmp_path, column, value, attribute, expected):
    found, notes = field_of(tmp_path, column, value, attribute)
    assert found == expected
    assert notes == ()


@pytest.mark.parametrize(
    ("column", "value", "attribute", "expected"),
    [
        ("sous-titre", "Histoire", "subtitle", "Histoire"),
        ("auteur", "Albert Camus", "authors", ("Albert Camus",)),
        ("auteurs", "Albert Camus", "authors", ("Albert Camus",)),
        ("éditeur", "Gallimard", "publisher", "Gallimard"),
        ("editeur", "Gallimard", "publisher", "Gallimard"),
        ("année", "1942", "publication_date", date(1942, 1, 1)),
        ("annee", "1942", "publication_date", date(1942, 1, 1)),
        ("Date de parution", "01/03/2008", "publication_date", date(2008, 3, 1)),
        ("langue", "fre", "language", "fr"),
        ("prix", "7,50", "price", Decimal("7.50")),
        ("quantité", "12", "stock", 12),
        ("catégories", "Littérature > Roman", "categories", ("Littérature > Roman",)),
        ("résumé", "Aujourd'hui, maman est morte.", "description", "Aujourd'hui, maman est morte."),
        ("resume", "Aujourd'hui, maman est morte.", "description", "Aujourd'hui, maman est morte."),
        ("couverture", "https://covers.example/e.jpg", "cover_url", "https://covers.example/e.jpg"),
        ("nombre de pages", "184", "pages", 184),
        ("reliure", "broché", "format", BookFormat.PAPERBACK),
    ],
)
def test_french_headers_are_matched(tmp_path, column, value, attribute, expected):
    found, notes = field_of(tmp_path, column, value, attribute)
    assert found == expected
    assert notes == ()


@pytest.mark.parametrize(
    "isbn_header", ["isbn", "ISBN", "isbn13", "ISBN-13", "isbn_13", "Isbn 13", "EAN", "ean13"]
)
@pytest.mark.parametrize("title_header", ["title", "Title", " TITRE ", "Titre", "titre"])
def test_headers_ignore_case_accents_spaces_and_punctuation(tmp_path, isbn_header, title_header):
    record = book(tmp_path, f"{isbn_header},{title_header}", f"{HOBBIT},The Hobbit")
    assert (record.isbn13, record.title) == (HOBBIT, "The Hobbit")


def test_header_with_accents_written_decomposed_is_matched(tmp_path):
    record = book(tmp_path, "isbn;titre;Anne\u0301e;E\u0301diteur", f"{HOBBIT};Bilbo;1969;Stock")
    assert (record.publication_date, record.publisher) == (date(1969, 1, 1), "Stock")


def test_the_isbn13_column_is_preferred_to_the_isbn_column(tmp_path):
    books = read_books_csv(
        write(tmp_path, f"isbn,isbn13,title\n0261103571,{HOBBIT},The Hobbit\n"), currency="EUR"
    )
    assert books.columns["isbn"] == ["isbn13", "isbn"]
    assert [record.isbn13 for record in books] == [HOBBIT]


def test_the_isbn_column_is_read_when_the_isbn13_one_is_empty(tmp_path):
    record = book(tmp_path, "isbn,isbn13,title", '0261103571,="",The Hobbit')
    assert record.isbn13 == HOBBIT
    assert record.notes == ()


def test_an_isbn13_that_lost_digits_gives_way_to_a_valid_isbn10_with_a_note(tmp_path):
    record = book(tmp_path, "isbn;isbn13;title", "0261103571;9.78026E+12;The Hobbit")
    assert record.isbn13 == HOBBIT
    assert record.notes == (
        "isbn: isbn13 '9.78026E+12' not used (Scientific notation lost digits of this ISBN: it cannot "
        "be recovered): the ISBN is read from isbn",
    )


def test_isbn_columns_naming_two_books_reject_the_row(tmp_path):
    result = one(tmp_path, "isbn;isbn13;title", f"0747532699;{HOBBIT};The Hobbit")
    assert isinstance(result, Reject)
    assert (result.source, result.field) == ("line 2", "isbn")
    assert "different books" in result.reason


def test_unknown_columns_are_listed_once_in_header_order(tmp_path):
    books = read_books_csv(
        write(
            tmp_path, f"Book Id,isbn,My Rating,title,,Prix HT\n1,{HOBBIT},5,The Hobbit,,9\n2,{HP},4,HP,,8\n"
        ),
        currency="EUR",
    )
    assert books.unknown_columns == ["Book Id", "My Rating", "Prix HT"]
    assert all(record.price is None for record in books)  # a price excluding tax is not "prix"


def test_a_header_without_an_isbn_column_is_refused(tmp_path):
    with pytest.raises(ImportFileError, match=r"no isbn column .*Code, title.*--map COLUMN=isbn"):
        read_books_csv(write(tmp_path, f"Code,title\n{HOBBIT},The Hobbit\n"), currency="EUR")


def test_a_header_without_a_title_column_is_refused(tmp_path):
    with pytest.raises(ImportFileError, match="no title column"):
        read_books_csv(write(tmp_path, f"isbn,stock\n{HOBBIT},3\n"), currency="EUR")


# --- --map ----------------------------------------------------------------------------


def test_mapping_names_a_column_the_aliases_do_not_know(tmp_path):
    record = book(
        tmp_path,
        "Code;Libellé;Jahr",
        f"{HOBBIT};Le Hobbit;1969",
        mapping={"Code": "isbn", "Libellé": "title", "Jahr": "year"},
    )
    assert (record.isbn13, record.title, record.publication_date) == (HOBBIT, "Le Hobbit", date(1969, 1, 1))


def test_mapping_matches_columns_and_fields_like_headers(tmp_path):
    record = book(
        tmp_path,
        "Code EAN;titre;Prix public TTC",
        f"{HOBBIT};Le Hobbit;8,90",
        mapping={"code ean": "ISBN", "PRIX_PUBLIC_TTC": "prix"},
    )
    assert (record.isbn13, record.price) == (HOBBIT, Decimal("8.90"))


def test_a_mapped_field_is_read_from_the_mapped_column_only(tmp_path):
    books = read_books_csv(
        write(tmp_path, f"isbn;titre;prix;prix public\n{HOBBIT};Le Hobbit;7,42;8,90\n"),
        mapping={"prix public": "price"},
        currency="EUR",
    )
    (record,) = books
    assert record.price == Decimal("8.90")
    assert books.unknown_columns == ["prix"]  # listed: it is not read


def test_mapping_to_ignore_drops_a_column_silently(tmp_path):
    books = read_books_csv(
        write(tmp_path, f"isbn;titre;prix\n{HOBBIT};Le Hobbit;7,42\n"),
        mapping={"prix": "ignore"},
        currency="EUR",
    )
    (record,) = books
    assert record.price is None
    assert books.unknown_columns == []


def test_mapping_to_a_field_that_does_not_exist_is_refused(tmp_path):
    with pytest.raises(ImportFileError, match="'colour' is not a field"):
        read_books_csv(
            write(tmp_path, f"isbn,title,c\n{HOBBIT},H,red\n"), mapping={"c": "colour"}, currency="EUR"
        )


def test_mapping_a_column_the_header_does_not_have_is_refused(tmp_path):
    with pytest.raises(ImportFileError, match=r"no column 'Prix TTC' \(its columns: isbn, title\)"):
        read_books_csv(
            write(tmp_path, f"isbn,title\n{HOBBIT},H\n"), mapping={"Prix TTC": "price"}, currency="EUR"
        )


# --- ISBNs ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "isbn13"),
    [
        ("9780747532699", HP),
        ("978-0-7475-3269-9", HP),
        ("978 0 7475 3269 9", HP),
        ("ISBN 978-0-7475-3269-9", HP),
        ("0747532699", HP),
        ("0-8044-2957-X", "9780804429573"),
        ("080442957x", "9780804429573"),
        ("747532699", HP),  # the leading zero a spreadsheet dropped
        ("9.780747532699E+12", HP),  # scientific notation that kept every digit
        ("9780747532699.0", HP),
        ('="9780747532699"', HP),
        ('"=""9780747532699"""', HP),  # the same guard, quoted by the CSV writer
        ("'9780747532699", HP),
        (" 9780747532699\u00a0", HP),
    ],
)
def test_mangled_isbns_are_recovered_when_the_check_digit_proves_them(tmp_path, raw, isbn13):
    record = book(tmp_path, "isbn;title", f"{raw};Harry Potter")
    assert record.isbn13 == isbn13


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("9.78074753E+12", "Scientific notation lost digits of this ISBN: it cannot be recovered."),
        ("9780747532698", "The check digit of this ISBN-13 is wrong."),
        ("0747532698", "The check digit of this ISBN-10 is wrong."),
        ("0000000000", "A placeholder, not an ISBN."),
        ("1234567890", "A placeholder, not an ISBN."),
        ("9780000000002", "A placeholder, not an ISBN."),
        ("N/A", "An ISBN has 13 digits (or 10 characters for an ISBN-10)."),
        ("43255619", "An ISBN has 13 digits (or 10 characters for an ISBN-10)."),
    ],
)
def test_isbns_no_check_digit_proves_are_rejected_with_the_reason_and_value(tmp_path, raw, reason):
    result = one(tmp_path, "isbn;title", f"{raw};Harry Potter")
    assert result == Reject(source="line 2", field="isbn", reason=reason, value=raw)


@pytest.mark.parametrize("raw", ["", "   ", '=""', "'"])
def test_a_row_without_an_isbn_is_rejected(tmp_path, raw):
    result = one(tmp_path, "title;isbn", f"Harry Potter;{raw}")
    assert isinstance(result, Reject)
    assert (result.source, result.field, result.reason) == ("line 2", "isbn", "No ISBN.")


@pytest.mark.parametrize("title", ["", "  \u00a0\t "])
def test_a_row_without_a_title_is_rejected(tmp_path, title):
    assert one(tmp_path, "isbn;title", f"{HP};{title}") == Reject(
        source="line 2", field="title", reason="No title."
    )


def test_a_title_too_long_to_store_is_rejected_not_cut(tmp_path):
    result = one(tmp_path, "isbn;title", f"{HP};{'A' * 301}")
    assert isinstance(result, Reject)
    assert (result.field, result.reason) == ("title", "Longer than 300 characters.")


# --- Delimiters, encodings --------------------------------------------------------------


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_the_delimiter_is_sniffed_from_the_header(tmp_path, delimiter):
    text = delimiter.join(["isbn", "title", "authors"]) + "\n"
    text += delimiter.join([HOBBIT, '"The Hobbit, or There and Back Again"', "J.R.R. Tolkien"]) + "\n"
    books = read_books_csv(write(tmp_path, text), currency="EUR")
    assert books.delimiter == delimiter
    (record,) = books
    assert (record.title, record.authors) == ("The Hobbit, or There and Back Again", ("J.R.R. Tolkien",))


def test_a_comma_inside_a_quoted_header_name_does_not_fool_the_sniffer(tmp_path):
    books = read_books_csv(write(tmp_path, f'isbn;title;"Prix, TTC"\n{HOBBIT};H;8\n'), currency="EUR")
    assert books.delimiter == ";"


@pytest.mark.parametrize(("option", "delimiter"), [(";", ";"), ("tab", "\t"), ("\\t", "\t"), ("|", "|")])
def test_the_delimiter_can_be_given(tmp_path, option, delimiter):
    # The unknown last column has as many commas as the file has delimiters: sniffing would pick ",".
    text = (
        f"isbn{delimiter}title{delimiter}stock{delimiter}a,b,c\n{HOBBIT}{delimiter}H{delimiter}3{delimiter}\n"
    )
    (record,) = read(tmp_path, text, delimiter=option)
    assert (record.isbn13, record.stock) == (HOBBIT, 3)


def test_a_delimiter_longer_than_one_character_is_refused(tmp_path):
    with pytest.raises(ImportFileError, match="cannot be a delimiter"):
        read_books_csv(write(tmp_path, "isbn,title\n"), delimiter=";;", currency="EUR")


def test_utf8_with_a_byte_order_mark_is_read(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(codecs.BOM_UTF8 + f"isbn;titre\n{HP};Harry Potter à l'école\n".encode())
    books = read_books_csv(path, currency="EUR")
    assert books.unknown_columns == []
    assert [record.title for record in books] == ["Harry Potter à l'école"]


def test_latin1_is_read_with_its_encoding(tmp_path):
    (record,) = read(
        tmp_path, f"isbn;titre;éditeur\n{HP};Harry Potter à l'école;Gallimard Jeunesse\n", encoding="latin-1"
    )
    assert (record.title, record.publisher) == ("Harry Potter à l'école", "Gallimard Jeunesse")


def test_latin1_read_as_utf8_is_refused_with_the_line_and_byte(tmp_path):
    path = write(tmp_path, f"isbn;titre\n{HP};Harry Potter à l'école\n", encoding="latin-1")
    with pytest.raises(ImportFileError) as error:
        read_books_csv(path, currency="EUR")
    offset = len(f"isbn;titre\n{HP};Harry Potter ")
    assert f"line 2, byte offset {offset}: not valid utf-8 (invalid continuation byte: 0xe0)" in str(
        error.value
    )
    assert "--encoding" in str(error.value)


def test_an_undecodable_byte_late_in_the_file_is_found_before_any_row_is_given(tmp_path):
    lines = ["isbn,title,description"]
    lines += [f"{HP},Harry Potter {n},Lu et relu: très bien" for n in range(2, 90_000)]
    good = ("\n".join(lines) + "\n").encode()
    path = tmp_path / "late.csv"
    path.write_bytes(good + f"{HOBBIT},Le Hobbit,".encode() + b"caf\xe9\n")
    with pytest.raises(ImportFileError) as error:
        read_books_csv(path, currency="EUR")  # raises here: no CsvBooks, so no row was ever yielded
    assert f"line 90000, byte offset {len(good) + len(HOBBIT) + 14}:" in str(error.value)
    assert "0xe9" in str(error.value)


def test_an_undecodable_byte_on_the_first_line_is_located(tmp_path):
    path = tmp_path / "first.csv"
    path.write_bytes(b"isbn,t\xc3\x28tre\n")
    with pytest.raises(
        ImportFileError, match=r"line 1, byte offset 6: not valid utf-8 \(invalid continuation byte"
    ):
        read_books_csv(path, currency="EUR")


def test_a_byte_cp1252_does_not_define_is_located(tmp_path):
    path = tmp_path / "cp1252.csv"
    path.write_bytes("isbn;titre\r\n".encode("cp1252") + f"{HP};Caf".encode() + b"\x81\r\n")
    with pytest.raises(ImportFileError, match=r"line 2, byte offset 29: not valid cp1252"):
        read_books_csv(path, encoding="cp1252", currency="EUR")


def test_a_utf16_file_read_as_utf8_is_refused_with_a_hint(tmp_path):
    path = tmp_path / "utf16.csv"
    path.write_bytes(f"isbn\ttitle\n{HP}\tHarry Potter\n".encode("utf-16"))
    with pytest.raises(ImportFileError, match=r"line 1, byte offset 0: .*try --encoding utf-16"):
        read_books_csv(path, currency="EUR")
    (record,) = read_books_csv(path, encoding="utf-16", currency="EUR")
    assert record.title == "Harry Potter"


def test_a_utf8_file_given_as_latin1_is_refused(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(codecs.BOM_UTF8 + f"isbn;titre\n{HP};Harry Potter à l'école\n".encode())
    with pytest.raises(ImportFileError, match="UTF-8 byte order mark"):
        read_books_csv(path, encoding="latin-1", currency="EUR")


def test_an_unknown_encoding_is_refused(tmp_path):
    with pytest.raises(ImportFileError, match="'klingon' is not an encoding"):
        read_books_csv(write(tmp_path, "isbn,title\n"), encoding="klingon", currency="EUR")


def test_an_empty_or_missing_file_is_refused(tmp_path):
    with pytest.raises(ImportFileError, match="is empty"):
        read_books_csv(write(tmp_path, "\n\n"), currency="EUR")
    with pytest.raises(ImportFileError, match="No such file"):
        read_books_csv(tmp_path / "missing.csv", currency="EUR")


# --- Rows and line numbers --------------------------------------------------------------


def test_quoted_fields_spanning_lines_give_the_line_each_row_starts_on(tmp_path):
    text = (
        "isbn,title,description\n"
        f'{HOBBIT},The Hobbit,"In a hole in the ground\nthere lived a hobbit.\n\n\n\nNot a nasty hole."\n'
        "0000000000,Placeholder,x\n"
        f'{HP},"Harry\nPotter",plain\n'
        "N/A,Broken,x\n"
    )
    results = read(tmp_path, text)
    assert [result.source for result in results] == ["line 2", "line 8", "line 9", "line 11"]
    assert results[0].description == "In a hole in the ground\nthere lived a hobbit.\n\nNot a nasty hole."
    assert results[2].title == "Harry Potter"


def test_crlf_line_ends_inside_and_outside_quotes(tmp_path):
    text = f'isbn,title,description\r\n{HOBBIT},"The\r\nHobbit","a\r\nb"\r\n{HP},HP,\r\n'
    results = read(tmp_path, text)
    assert [(result.source, result.title, result.description) for result in results] == [
        ("line 2", "The Hobbit", "a\nb"),
        ("line 5", "HP", ""),
    ]


def test_blank_lines_are_skipped_and_do_not_shift_line_numbers(tmp_path):
    text = f"\n\nisbn,title\n\n{HOBBIT},The Hobbit\n,\n\n{HP},HP\n"
    books = read_books_csv(write(tmp_path, text), currency="EUR")
    assert books.row_count == len(books) == 2
    assert [record.source for record in books] == ["line 5", "line 8"]


def test_a_quoted_field_left_open_to_the_end_is_refused_with_its_line(tmp_path):
    text = f'isbn,title,description\n{HOBBIT},The Hobbit,ok\n{HP},HP,"never closed\n{HOBBIT},Again,x\n'
    with pytest.raises(ImportFileError, match="line 3: a quoted field opened on this line is never closed"):
        read_books_csv(write(tmp_path, text), currency="EUR")


def test_a_field_larger_than_the_csv_limit_is_refused_before_any_row(tmp_path):
    text = f'isbn,title,description\n{HOBBIT},The Hobbit,"{"x" * 200_000}"\n'
    with pytest.raises(ImportFileError, match="line 2: field larger than field limit"):
        read_books_csv(write(tmp_path, text), currency="EUR")


def test_a_row_with_more_values_than_columns_is_rejected(tmp_path):
    text = f"isbn,title,price\n{HOBBIT},The Hobbit,12,90\n{HP},HP,12.90,,\n"
    reject, record = read(tmp_path, text)
    assert isinstance(reject, Reject)
    assert (reject.source, reject.field) == ("line 2", "row")
    assert reject.reason.startswith("4 values for 3 columns")
    assert isinstance(record, BookRecord)  # empty values past the last column are harmless
    assert record.price == Decimal("12.90")


def test_a_row_with_fewer_values_than_columns_is_read(tmp_path):
    record = book(tmp_path, "isbn,title,price,stock", f"{HOBBIT},The Hobbit")
    assert (record.price, record.stock) == (None, None)


def test_books_can_be_iterated_again_and_counted(tmp_path):
    books = read_books_csv(write(tmp_path, f"isbn,title\n{HOBBIT},H\nN/A,x\n"), currency="EUR")
    assert isinstance(books, CsvBooks)
    assert len(books) == 2
    assert list(books) == list(books)


def test_rows_are_read_one_at_a_time(tmp_path):
    """Both passes hold one row at a time: memory does not grow with the file (a 25,000-row file
    keeps the test fast under tracemalloc; nothing in the reader depends on the size)."""
    rows = 25_000
    path = tmp_path / "big.csv"
    with path.open("w", encoding="utf-8") as handle:
        handle.write("isbn,title,authors,description\n")
        for n in range(rows):
            handle.write(f'{HOBBIT},The Hobbit {n},J.R.R. Tolkien,"{"A long description. " * 12}"\n')
    assert path.stat().st_size > 6_000_000
    tracemalloc.start()
    try:
        books = read_books_csv(path, currency="EUR")
        count = sum(1 for _ in books)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == books.row_count == rows
    assert peak < 1_000_000


# --- Prices -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "price"),
    [
        ("12.90", Decimal("12.90")),
        ("12,90", Decimal("12.90")),
        ("12,9", Decimal("12.90")),
        ("12", Decimal("12.00")),
        ("12,90 €", Decimal("12.90")),
        ("12,90\u00a0€", Decimal("12.90")),
        ("€12.90", Decimal("12.90")),
        ("12.90 EUR", Decimal("12.90")),
        ("EUR 12,90", Decimal("12.90")),
        ("12,90 euros", Decimal("12.90")),
        ("1 234,50", Decimal("1234.50")),
        ("1\u202f234,50", Decimal("1234.50")),
        ("1.234,50", Decimal("1234.50")),
        ("1,234.50", Decimal("1234.50")),
        ("0,50", Decimal("0.50")),
    ],
)
def test_prices_in_the_shop_currency_are_read(tmp_path, raw, price):
    assert field_of(tmp_path, "prix", raw, "price") == (price, ())


@pytest.mark.parametrize(
    ("raw", "note"),
    [
        ("$12", "price: '$12' is in USD, not EUR: not kept"),
        ("US$12.00", "price: 'US$12.00' is in USD, not EUR: not kept"),
        ("CA$ 15", "price: 'CA$ 15' is in CAD, not EUR: not kept"),
        ("£9.99", "price: '£9.99' is in GBP, not EUR: not kept"),
        ("9.99 GBP", "price: '9.99 GBP' is in GBP, not EUR: not kept"),
        ("12 CHF", "price: '12 CHF' is in CHF, not EUR: not kept"),
        ("-5", "price: '-5' is negative: not kept"),
        ("-5,00 €", "price: '-5,00 €' is negative: not kept"),
        ("0", "price: '0' is zero: not kept"),
        ("0,00", "price: '0,00' is zero: not kept"),
        ("free", "price: 'free' is not a number: not kept"),
        ("12 abc", "price: '12 abc' is not a number: not kept"),
        ("12..90", "price: '12..90' is not a number: not kept"),
        ("12,90,1", "price: '12,90,1' is not a number: not kept"),
        ("1,234", "price: '1,234' is ambiguous (a decimal comma, or a thousands separator?): not kept"),
        ("NaN", "price: 'NaN' is not a number: not kept"),
        ("1e3", "price: '1e3' is not a number: not kept"),
        ("123456789", "price: '123456789' is too large: not kept"),
    ],
)
def test_prices_not_usable_in_the_shop_currency_are_left_out_with_a_note(tmp_path, raw, note):
    assert field_of(tmp_path, "prix", raw, "price") == (None, (note,))


def test_a_price_with_more_than_cents_is_rounded_with_a_note(tmp_path):
    assert field_of(tmp_path, "price", "12.905", "price") == (
        Decimal("12.91"),
        ("price: '12.905' rounded to 12.91",),
    )


def test_an_empty_price_is_no_price_without_a_note(tmp_path):
    assert field_of(tmp_path, "price", " ", "price") == (None, ())


@pytest.mark.parametrize(
    ("price", "currency", "expected", "notes"),
    [
        ("12.90", "EUR", Decimal("12.90"), ()),
        ("12.90", "eur", Decimal("12.90"), ()),
        ("12.90", "€", Decimal("12.90"), ()),
        ("12.90", "", Decimal("12.90"), ()),
        ("12.90", "USD", None, ("price: '12.90' is in USD, not EUR: not kept",)),
        ("9,99", "GBP", None, ("price: '9,99' is in GBP, not EUR: not kept",)),
        ("12.90 €", "USD", None, ("price: '12.90 €' is in EUR but the currency is USD: not kept",)),
        ("12.90", "euro-ish", None, ("price: the currency 'euro-ish' is not known: not kept",)),
    ],
)
def test_a_currency_column_says_what_the_price_is_in(tmp_path, price, currency, expected, notes):
    record = book(tmp_path, "isbn;title;price;currency", f"{HOBBIT};H;{price};{currency}")
    assert (record.price, record.notes) == (expected, notes)


def test_the_shop_currency_decides_which_prices_are_kept(tmp_path):
    header, values = "isbn;title;price;devise", f"{HOBBIT};H;$12;"
    assert book(tmp_path, header, values, currency="USD").price == Decimal("12.00")
    assert book(tmp_path, header, values, currency="EUR").price is None


# --- Years and dates --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2008", date(2008, 1, 1)),
        ("2008.0", date(2008, 1, 1)),
        ("2008,0", date(2008, 1, 1)),
        (" 2008 ", date(2008, 1, 1)),
        ("868", date(868, 1, 1)),
        ("0", None),
        ("0.0", None),
        ("", None),
        ("2008-03-01", date(2008, 3, 1)),
        ("2008-03-01T00:00:00", date(2008, 3, 1)),
        ("2008-03-01 12:30:00", date(2008, 3, 1)),
        ("2008-03", date(2008, 3, 1)),
        ("2008/03/01", date(2008, 3, 1)),
        ("01/03/2008", date(2008, 3, 1)),
        ("1/3/2008", date(2008, 3, 1)),
        ("01.03.2008", date(2008, 3, 1)),
        ("01-03-2008", date(2008, 3, 1)),
        ("03/2008", date(2008, 3, 1)),
        ("c1998", date(1998, 1, 1)),
        ("[1998]", date(1998, 1, 1)),
        ("1998?", date(1998, 1, 1)),
        ("©1998", date(1998, 1, 1)),
        ("1er mars 2008", date(2008, 3, 1)),
        ("16 septembre 2006", date(2006, 9, 16)),
        ("16 Sept. 2006", date(2006, 9, 16)),
        ("September 16, 2006", date(2006, 9, 16)),
        ("Sep 16th 2006", date(2006, 9, 16)),
        ("août 2006", date(2006, 8, 1)),
        ("March 2008", date(2008, 3, 1)),
    ],
)
def test_years_and_dates_are_read(tmp_path, raw, expected):
    assert field_of(tmp_path, "year", raw, "publication_date") == (expected, ())


@pytest.mark.parametrize(
    ("raw", "note"),
    [
        ("-500", "publication_date: '-500' is before the common era: not kept"),
        ("-500.0", "publication_date: '-500.0' is before the common era: not kept"),
        ("\u2212500", "publication_date: '-500' is before the common era: not kept"),
        ("500 BC", "publication_date: '500 BC' is before the common era: not kept"),
        ("500 av. J.-C.", "publication_date: '500 av. J.-C.' is before the common era: not kept"),
        ("20080", "publication_date: '20080' is not a year: not kept"),
        ("31/02/2008", "publication_date: '31/02/2008' is not a date: not kept"),
        ("2008-13-01", "publication_date: '2008-13-01' is not a date: not kept"),
        ("soon", "publication_date: 'soon' is not a date: not kept"),
        ("01/03/08", "publication_date: '01/03/08' is not a date: not kept"),
        ("32 brumaire 2008", "publication_date: '32 brumaire 2008' is not a date: not kept"),
    ],
)
def test_years_that_are_not_dates_are_left_out_with_a_note(tmp_path, raw, note):
    assert field_of(tmp_path, "year", raw, "publication_date") == (None, (note,))


def test_a_date_that_only_reads_month_first_is_read_so_with_a_note(tmp_path):
    assert field_of(tmp_path, "publication_date", "12/31/2008", "publication_date") == (
        date(2008, 12, 31),
        ("publication_date: '12/31/2008' read month first",),
    )


def test_this_edition_year_is_preferred_to_the_original_one(tmp_path):
    header = "isbn;title;original_publication_year;year"
    assert book(tmp_path, header, f"{HOBBIT};H;1937;1995").publication_date == date(1995, 1, 1)
    assert book(tmp_path, header, f"{HOBBIT};H;1937;").publication_date == date(1937, 1, 1)


# --- Whitespace, names, categories -------------------------------------------------------


def test_stray_whitespace_of_every_kind_is_normalised(tmp_path):
    record = book(
        tmp_path,
        "isbn\ttitle\tauthors\tpublisher\tcategories",
        f"{HOBBIT}\t  The\u00a0\u00a0Hobbit \u2009 \u200b\t"
        f'"J.R.R.\u00a0Tolkien ;  Christopher  Tolkien"\t Harper\u202fCollins \t'
        " Fiction\u00a0>  Fantasy  |\u3000Jeunesse ",
    )
    assert record.title == "The Hobbit"
    assert record.authors == ("J.R.R. Tolkien", "Christopher Tolkien")
    assert record.publisher == "Harper Collins"
    assert record.categories == ("Fiction > Fantasy", "Jeunesse")


def test_control_characters_and_soft_hyphens_do_not_reach_titles(tmp_path):
    record = book(tmp_path, "isbn,title", f"{HOBBIT},The\x0bHob\u00adbit\x00")
    assert record.title == "The Hobbit"


def test_accents_written_decomposed_are_composed(tmp_path):
    record = book(tmp_path, "isbn,title", f"{HOBBIT},Le Pe\u0301tit Prince")
    assert record.title == "Le P\u00e9tit Prince"


@pytest.mark.parametrize(
    ("raw", "authors", "notes"),
    [
        ("J.K. Rowling / Mary GrandPré", ("J.K. Rowling", "Mary GrandPré"), ()),
        ("Stephen King, Peter Straub", ("Stephen King", "Peter Straub"), ()),
        ("Stephen King; Peter Straub", ("Stephen King", "Peter Straub"), ()),
        ("Terry Pratchett | Neil Gaiman", ("Terry Pratchett", "Neil Gaiman"), ()),
        ("Neil Gaiman, Terry Pratchett, Neil Gaiman", ("Neil Gaiman", "Terry Pratchett"), ()),
        ("Martin Luther King, Jr.", ("Martin Luther King, Jr.",), ()),
        (
            "Tolkien, J. R. R.",
            ("J. R. R. Tolkien",),
            ("authors: 'Tolkien, J. R. R.' read as 'J. R. R. Tolkien'",),
        ),
        ("Tolkien, J.R.R.", ("J.R.R. Tolkien",), ("authors: 'Tolkien, J.R.R.' read as 'J.R.R. Tolkien'",)),
        ("Rowling, Joanne", ("Joanne Rowling",), ("authors: 'Rowling, Joanne' read as 'Joanne Rowling'",)),
        (
            "Tolkien, J.R.R.; Tolkien, Christopher",
            ("J.R.R. Tolkien", "Christopher Tolkien"),
            (
                "authors: 'Tolkien, J.R.R.' read as 'J.R.R. Tolkien'",
                "authors: 'Tolkien, Christopher' read as 'Christopher Tolkien'",
            ),
        ),
        ("Albert Camus;", ("Albert Camus",), ()),
        ("  ", (), ()),
    ],
)
def test_authors_are_split_on_commas_semicolons_and_slashes(tmp_path, raw, authors, notes):
    assert field_of(tmp_path, '"authors"', f'"{raw}"', "authors") == (authors, notes)


def test_an_author_name_too_long_to_store_is_left_out_with_a_note(tmp_path):
    found, notes = field_of(tmp_path, "authors", f"{'A' * 201} / Albert Camus", "authors")
    assert found == ("Albert Camus",)
    assert notes == ("authors: a name longer than 200 characters: not kept",)


@pytest.mark.parametrize(
    ("raw", "categories"),
    [
        ("Fiction > Fantasy", ("Fiction > Fantasy",)),
        ("Fiction>Fantasy|Jeunesse", ("Fiction > Fantasy", "Jeunesse")),
        ("Fiction > Fantasy ; Jeunesse > Romans", ("Fiction > Fantasy", "Jeunesse > Romans")),
        ("Fiction >  > Fantasy | | Fiction > Fantasy", ("Fiction > Fantasy",)),
        ("Science-fiction / Fantasy", ("Science-fiction / Fantasy",)),
    ],
)
def test_categories_are_paths_separated_by_pipes_or_semicolons(tmp_path, raw, categories):
    assert field_of(tmp_path, "categories", f'"{raw}"', "categories") == (categories, ())


# --- Languages, formats, counts, covers -------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "language"),
    [
        ("fr", "fr"),
        ("FR", "fr"),
        ("fre", "fr"),
        ("fra", "fr"),
        ("eng", "en"),
        ("en-US", "en"),
        ("en_GB", "en"),
        ("ger", "de"),
        ("deu", "de"),
        ("spa", "es"),
        ("chi", "zh"),
        ("zho", "zh"),
        ("iw", "he"),
        ("French", "fr"),
        ("français", "fr"),
        ("Anglais", "en"),
    ],
)
def test_languages_become_iso_639_1(tmp_path, raw, language):
    assert field_of(tmp_path, "language", raw, "language") == (language, ())


@pytest.mark.parametrize("raw", ["mul", "enm", "grc", "xx", "Klingon"])
def test_languages_without_an_iso_639_1_code_are_left_out_with_a_note(tmp_path, raw):
    assert field_of(tmp_path, "langue", raw, "language") == (
        "",
        (f"language: {raw!r} has no ISO 639-1 code: not kept",),
    )


def test_every_iso_639_2_code_maps_to_iso_639_1_and_covers_it():
    assert set(_ISO_639_2_TO_1.values()) <= ISO_639_1
    assert set(_ISO_639_2_TO_1.values()) == ISO_639_1


@pytest.mark.parametrize(
    ("raw", "format"),
    [
        ("Paperback", BookFormat.PAPERBACK),
        ("broché", BookFormat.PAPERBACK),
        ("Broche", BookFormat.PAPERBACK),
        ("poche", BookFormat.PAPERBACK),
        ("Mass Market Paperback", BookFormat.PAPERBACK),
        ("Hardcover", BookFormat.HARDCOVER),
        ("relié", BookFormat.HARDCOVER),
        ("Hardback", BookFormat.HARDCOVER),
        ("ebook", BookFormat.EBOOK),
        ("E-book", BookFormat.EBOOK),
        ("numérique", BookFormat.EBOOK),
        ("Kindle Edition", BookFormat.EBOOK),
        ("audiobook", BookFormat.AUDIOBOOK),
        ("Audio", BookFormat.AUDIOBOOK),
        ("livre audio", BookFormat.AUDIOBOOK),
        ("Audio CD", BookFormat.AUDIOBOOK),
    ],
)
def test_formats_are_mapped_to_the_shop_formats(tmp_path, raw, format):
    assert field_of(tmp_path, "format", raw, "format") == (format, ())


def test_an_unknown_format_is_left_out_with_a_note(tmp_path):
    assert field_of(tmp_path, "format", "Board book", "format") == (
        "",
        ("format: 'Board book' is not a format the shop knows: not kept",),
    )


@pytest.mark.parametrize(
    ("column", "raw", "expected", "notes"),
    [
        ("stock", "12", 12, ()),
        ("stock", "12.0", 12, ()),
        ("stock", "0", 0, ()),
        ("stock", "1 200", 1200, ()),
        ("stock", "", None, ()),
        ("stock", "-3", None, ("stock: '-3' is negative: not kept",)),
        ("stock", "2.5", None, ("stock: '2.5' is not a whole number: not kept",)),
        ("stock", "many", None, ("stock: 'many' is not a whole number: not kept",)),
        ("stock", "99999999999", None, ("stock: '99999999999' is too large: not kept",)),
        ("pages", "352", 352, ()),
        ("pages", "352.0", 352, ()),
        ("pages", "352 p.", 352, ()),
        ("pages", "352 pages", 352, ()),
        ("pages", "0", None, ()),
        ("pages", "-1", None, ("pages: '-1' is negative: not kept",)),
        ("pages", "xii", None, ("pages: 'xii' is not a whole number: not kept",)),
        ("pages", "1000000", None, ("pages: '1000000' is too large: not kept",)),
    ],
)
def test_stock_and_pages_are_whole_numbers_or_left_out_with_a_note(tmp_path, column, raw, expected, notes):
    assert field_of(tmp_path, column, raw, column) == (expected, notes)


@pytest.mark.parametrize(
    ("raw", "expected", "notes"),
    [
        ("https://covers.example/h.jpg", "https://covers.example/h.jpg", ()),
        ("http://covers.example/h.jpg", "http://covers.example/h.jpg", ()),
        ("N/A", "", ("cover_url: 'N/A' is not an http(s) address: not kept",)),
        (
            "javascript:alert(1)",
            "",
            ("cover_url: 'javascript:alert(1)' is not an http(s) address: not kept",),
        ),
        ("file:///etc/passwd", "", ("cover_url: 'file:///etc/passwd' is not an http(s) address: not kept",)),
    ],
)
def test_cover_urls_are_http_addresses(tmp_path, raw, expected, notes):
    assert field_of(tmp_path, "cover_url", raw, "cover_url") == (expected, notes)


# --- Real-looking exports ---------------------------------------------------------------


def test_a_goodreads_library_export_is_read():
    books = read_books_csv(DATA / "goodreads_library_export.csv", currency="EUR")
    assert books.columns["isbn"] == ["ISBN13", "ISBN"]
    assert books.columns["publication_date"] == ["Year Published", "Original Publication Year"]
    assert "Additional Authors" in books.unknown_columns
    assert "My Review" in books.unknown_columns
    hp, dune, hitchhiker, hobbit = books
    assert hp == BookRecord(
        isbn13=HP,
        source="line 2",
        title="Harry Potter and the Philosopher's Stone (Harry Potter, #1)",
        authors=("J.K. Rowling",),
        publisher="Bloomsbury",
        publication_date=date(1997, 1, 1),
        pages=223,
        format=BookFormat.HARDCOVER,
    )
    assert (dune.source, dune.isbn13, dune.publication_date) == ("line 3", "9780441172719", date(1965, 1, 1))
    assert dune.format == BookFormat.PAPERBACK
    assert hitchhiker == Reject(source="line 6", field="isbn", reason="No ISBN.", value='=""')
    assert (hobbit.source, hobbit.isbn13, hobbit.publication_date) == ("line 7", HOBBIT, date(1995, 1, 1))


def test_a_french_bookshop_export_in_cp1252_is_read():
    books = read_books_csv(DATA / "catalogue_fr_cp1252.csv", encoding="cp1252", currency="EUR")
    assert books.delimiter == ";"
    assert books.unknown_columns == []
    etranger, prince, pride, miserables = books
    assert etranger == BookRecord(
        isbn13="9782070360024",
        source="line 2",
        title="L'Étranger",
        authors=("Albert Camus",),
        publisher="Gallimard",
        publication_date=date(1972, 1, 1),
        language="fr",
        price=Decimal("7.50"),
        stock=12,
        categories=("Littérature > Roman", "Classiques"),
        description="Aujourd'hui, maman est morte.\nOu peut-être hier, je ne sais pas.",
        cover_url="https://covers.example/etranger.jpg",
        pages=184,
        format=BookFormat.PAPERBACK,
    )
    assert (prince.source, prince.publication_date, prince.price, prince.pages) == (
        "line 4",
        date(2008, 3, 1),
        Decimal("6.90"),
        96,
    )
    assert (prince.language, prince.format) == ("fr", BookFormat.PAPERBACK)
    assert (pride.price, pride.format, pride.notes) == (
        None,
        BookFormat.HARDCOVER,
        ("price: '9,99' is in GBP, not EUR: not kept",),
    )
    assert miserables.isbn13 == "9782070413119"
    assert (miserables.price, miserables.stock, miserables.pages) == (None, None, None)
    assert miserables.format == BookFormat.AUDIOBOOK
    assert miserables.notes == ("price: '-3' is negative: not kept", "stock: '-1' is negative: not kept")


def test_the_french_export_read_as_utf8_is_refused():
    with pytest.raises(
        ImportFileError, match=r"catalogue_fr_cp1252.csv: line 1, byte offset 20: not valid utf-8"
    ):
        read_books_csv(DATA / "catalogue_fr_cp1252.csv", currency="EUR")
