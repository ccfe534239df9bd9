"""The ONIX reader alone (``apps/catalog/imports/onix/``): no database.

The files under ``data/onix/`` were written for these tests from the ONIX for Books 3.0 and 2.1
element names; the books and publishers in them are invented.
"""

import resource
import sys
import tracemalloc
from decimal import Decimal
from pathlib import Path

import pytest

from apps.catalog.imports.onix import read_onix
from apps.catalog.imports.onix.reader import _ISO_639_2
from apps.catalog.imports.records import BookRecord, ImportFileError, Reject
from apps.catalog.languages import ISO_639_1

DATA = Path(__file__).parent / "data" / "onix"
SUBJECTS = {
    "THEMA:FBA": "Fiction >  Littérature ",
    "thema:5an": "Jeunesse > Ados",
    "CLIL:3435": "Fiction > Romans",
    "BIC:FYB": "Fiction > Nouvelles",
}


def _read(name: str | Path, **options: object) -> list[BookRecord | Reject]:
    path = name if isinstance(name, Path) else DATA / name
    options.setdefault("currency", "EUR")
    return list(read_onix(path, **options))  # type: ignore[arg-type]


def _records(name: str | Path, **options: object) -> dict[str, BookRecord]:
    return {item.source: item for item in _read(name, **options) if isinstance(item, BookRecord)}


def _rejects(name: str | Path, **options: object) -> dict[str, Reject]:
    return {item.source: item for item in _read(name, **options) if isinstance(item, Reject)}


def _book(name: str | Path, reference: str, **options: object) -> BookRecord:
    return _records(name, **options)[f"record {reference}"]


def _feed(tmp_path: Path, *products: str, header: str = "", name: str = "feed.xml") -> Path:
    """A 3.0 reference-tag message made of ``products``."""
    path = tmp_path / name
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<ONIXMessage release="3.0" xmlns="http://ns.editeur.org/onix/3.0/reference">'
        f"<Header>{header}</Header>{''.join(products)}</ONIXMessage>",
        encoding="utf-8",
    )
    return path


def _product(
    isbn: str = "9782000000013",
    *,
    reference: str = "r1",
    descriptive: str = "",
    collateral: str = "",
    supply: str = "",
    identifiers: str | None = None,
) -> str:
    if identifiers is None:
        identifiers = _identifier("15", isbn)
    return (
        f"<Product><RecordReference>{reference}</RecordReference><NotificationType>03</NotificationType>"
        f"{identifiers}<DescriptiveDetail><ProductComposition>00</ProductComposition>"
        f"<ProductForm>BC</ProductForm>{descriptive}</DescriptiveDetail>"
        f"<CollateralDetail>{collateral}</CollateralDetail>"
        f"<ProductSupply><SupplyDetail><ProductAvailability>20</ProductAvailability>{supply}"
        "</SupplyDetail></ProductSupply></Product>"
    )


def _identifier(kind: str, value: str) -> str:
    return (
        f"<ProductIdentifier><ProductIDType>{kind}</ProductIDType>"
        f"<IDValue>{value}</IDValue></ProductIdentifier>"
    )


def _price(kind: str, amount: str, currency: str = "EUR", *, territory: str = "", tax: str = "") -> str:
    currency_code = f"<CurrencyCode>{currency}</CurrencyCode>" if currency else ""
    return (
        f"<Price><PriceType>{kind}</PriceType><PriceAmount>{amount}</PriceAmount>"
        f"{tax}{currency_code}{territory}</Price>"
    )


def _description(text: str, textformat: str = "02") -> str:
    return (
        "<TextContent><TextType>03</TextType><ContentAudience>00</ContentAudience>"
        f'<Text textformat="{textformat}">{text}</Text></TextContent>'
    )


# The files, product by product.


def test_every_product_is_read_in_file_order() -> None:
    sources = [item.source for item in _read("reference_3.0.xml")]

    assert sources == [f"record exemple.fr-000{n}" for n in range(1, 9)]


def test_title_joins_its_prefix_and_keeps_the_subtitle() -> None:
    first = _book("reference_3.0.xml", "exemple.fr-0001")
    short = _book("short_3.0.xml", "exemple.fr-0101")

    assert (first.title, first.subtitle) == ("L'Heure bleue", "Roman")
    assert (short.title, short.subtitle) == ("Les Îles courtes", "Nouvelles")
    assert _book("reference_3.0.xml", "exemple.fr-0002").title == "Atlas des vents"


def test_contributors_follow_their_sequence_numbers_authors_first() -> None:
    book = _book("reference_3.0.xml", "exemple.fr-0001")

    assert book.authors == ("Claire Aubert", "Paul Martin")
    assert book.contributors == (("Inès Trait", "A12"), ("Atelier de traduction", "B06"))
    assert _book("reference_2.1.xml", "exemple.fr-0201").authors == ("Alice Verger", "Hugo Lenoir")


def test_a_reader_is_a_contributor_with_a_role_not_an_author() -> None:
    book = _book("reference_3.0.xml", "exemple.fr-0005")

    assert book.authors == ()
    assert book.contributors == (("Lou Lecteur", "E07"),)


def test_publisher_is_the_one_with_role_01_and_the_imprint_goes_into_a_note() -> None:
    book = _book("reference_3.0.xml", "exemple.fr-0001")

    assert book.publisher == "Éditions du Levant"
    assert "Imprint: Collection Brume." in book.notes


def test_an_imprint_stands_for_a_missing_publisher(tmp_path: Path) -> None:
    product = _product().replace(
        "<CollateralDetail>",
        "<PublishingDetail><Imprint><ImprintName>Brume</ImprintName></Imprint></PublishingDetail><CollateralDetail>",
    )
    book = _book(_feed(tmp_path, product), "r1")

    assert book.publisher == "Brume"
    assert any("imprint Brume stands for it" in note for note in book.notes)


@pytest.mark.parametrize(
    ("name", "reference", "expected"),
    [
        ("reference_3.0.xml", "exemple.fr-0001", "2019-03-15"),  # role 01 chosen over role 09
        ("reference_3.0.xml", "exemple.fr-0002", "2019-03-01"),  # YYYYMM
        ("reference_3.0.xml", "exemple.fr-0003", "2021-01-01"),  # YYYY
        ("reference_2.1.xml", "exemple.fr-0201", "2011-01-01"),  # 2.1 PublicationDate
        ("no_namespace_2.1_short.xml", "exemple.fr-0301", "1999-07-04"),
    ],
)
def test_publication_date_is_read_in_each_onix_format(name: str, reference: str, expected: str) -> None:
    book = _book(name, reference)

    assert book.publication_date is not None
    assert book.publication_date.isoformat() == expected


def test_a_date_given_to_the_month_says_so_in_a_note() -> None:
    book = _book("reference_3.0.xml", "exemple.fr-0002")

    assert any("given as 201903 only" in note for note in book.notes)


def test_an_unreadable_date_is_left_out_with_a_note(tmp_path: Path) -> None:
    product = _product().replace(
        "<CollateralDetail>",
        "<PublishingDetail><PublishingDate><PublishingDateRole>01</PublishingDateRole>"
        "<Date>mars 2019</Date></PublishingDate></PublishingDetail><CollateralDetail>",
    )
    book = _book(_feed(tmp_path, product), "r1")

    assert book.publication_date is None
    assert any("'mars 2019' not read" in note for note in book.notes)


@pytest.mark.parametrize(
    ("name", "reference", "expected"),
    [
        ("reference_3.0.xml", "exemple.fr-0001", "fr"),  # fre, role 01 (not the 02 eng)
        ("reference_3.0.xml", "exemple.fr-0002", "de"),  # ger
        ("reference_3.0.xml", "exemple.fr-0003", "fr"),  # fra
        ("short_3.0.xml", "exemple.fr-0101", "es"),
        ("reference_2.1.xml", "exemple.fr-0201", "en"),
        ("no_namespace_2.1_short.xml", "exemple.fr-0301", "it"),  # 2.1 LanguageOfText
    ],
)
def test_language_is_turned_into_iso_639_1(name: str, reference: str, expected: str) -> None:
    assert _book(name, reference).language == expected


def test_the_iso_639_2_table_covers_every_iso_639_1_code_and_nothing_else() -> None:
    assert set(_ISO_639_2.values()) == ISO_639_1
    assert _ISO_639_2["fre"] == _ISO_639_2["fra"] == "fr"


def test_an_unknown_language_is_left_out_with_a_note(tmp_path: Path) -> None:
    language = "<Language><LanguageRole>01</LanguageRole><LanguageCode>mul</LanguageCode></Language>"
    book = _book(_feed(tmp_path, _product(descriptive=language)), "r1")

    assert book.language == ""
    assert any("Language mul" in note for note in book.notes)


def test_pages_are_the_main_content_page_count() -> None:
    assert _book("reference_3.0.xml", "exemple.fr-0001").pages == 256  # type 00, not the 05
    assert _book("short_3.0.xml", "exemple.fr-0101").pages == 144
    assert _book("reference_2.1.xml", "exemple.fr-0201").pages == 320  # 2.1 NumberOfPages
    assert _book("reference_3.0.xml", "exemple.fr-0002").pages is None


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ("exemple.fr-0001", "paperback"),  # BC
        ("exemple.fr-0002", "hardcover"),  # BB
        ("exemple.fr-0003", "ebook"),  # ED + E101
        ("exemple.fr-0005", "audiobook"),  # AJ
        ("exemple.fr-0008", ""),  # BA: a book of no stated binding
    ],
)
def test_product_form_becomes_a_shop_format(reference: str, expected: str) -> None:
    assert _book("reference_3.0.xml", reference).format == expected


def test_a_form_the_shop_lacks_leaves_the_format_empty_with_a_note() -> None:
    book = _book("reference_3.0.xml", "exemple.fr-0008")

    assert any("Product form BA" in note for note in book.notes)


def test_a_digital_download_of_audio_files_is_an_audiobook(tmp_path: Path) -> None:
    product = _product().replace(
        "<ProductForm>BC</ProductForm>",
        "<ProductForm>ED</ProductForm><ProductFormDetail>A103</ProductFormDetail>",
    )

    assert _book(_feed(tmp_path, product), "r1").format == "audiobook"


def test_subjects_become_categories_where_the_map_says_so_and_stay_codes_otherwise() -> None:
    first = _book("reference_3.0.xml", "exemple.fr-0001", subject_map=SUBJECTS)
    second = _book("reference_3.0.xml", "exemple.fr-0002", subject_map=SUBJECTS)

    assert first.categories == ("Fiction > Littérature", "Fiction > Romans")
    assert first.subjects == ("BISAC:FIC000000",)  # the keywords (scheme 20) are not codes
    assert second.categories == ("Jeunesse > Ados",)  # a Thema qualifier, map keys in any case
    assert second.subjects == ("THEMA:RBP",)
    assert _book("short_3.0.xml", "exemple.fr-0101", subject_map=SUBJECTS).categories == (
        "Fiction > Nouvelles",
    )


def test_without_a_map_every_subject_is_kept_as_a_code() -> None:
    assert _book("reference_3.0.xml", "exemple.fr-0001").subjects == (
        "THEMA:FBA",
        "BISAC:FIC000000",
        "CLIL:3435",
    )
    assert _book("reference_2.1.xml", "exemple.fr-0201").subjects == ("THEMA:WMD", "BISAC:GAR000000")


def test_the_description_is_preferred_to_the_short_one_and_reduced_to_safe_text() -> None:
    book = _book("reference_3.0.xml", "exemple.fr-0001")

    assert (
        book.description == "Une nuit d'été, à Lyon.\nTout commence.\n\nAuteurs & éditeurs : fin."
    )  # nbsp made a plain space
    assert "alert" not in book.description


def test_a_short_description_is_taken_when_there_is_no_other() -> None:
    book = _book("reference_3.0.xml", "exemple.fr-0002")

    assert book.description == "Des cartes pour tous les vents.\n\nUne ligne seule\net sa suite."


def test_a_description_sent_as_xhtml_elements_is_reduced_to_text() -> None:
    book = _book("reference_3.0.xml", "exemple.fr-0008")

    assert book.description == "Premier carnet.\n\nBruges\nGand"


def test_the_2_1_main_description_is_taken() -> None:
    assert _book("reference_2.1.xml", "exemple.fr-0201").description == "Un an au jardin."
    assert _book("short_3.0.xml", "exemple.fr-0101").description == "Douze nouvelles écrites en mer."


@pytest.mark.parametrize(
    "html",
    [
        "&lt;p onclick='x()'&gt;Bonjour&lt;/p&gt;&lt;iframe src='http://x'&gt;&lt;/iframe&gt;",
        "&amp;lt;p&amp;gt;Bonjour&amp;lt;/p&amp;gt;",  # escaped twice by the sender
        "&lt;div&gt;&lt;style&gt;p{}&lt;/style&gt;&lt;![CDATA[x]]&gt;Bonjour&lt;/div&gt;",
    ],
)
def test_a_description_never_keeps_markup(tmp_path: Path, html: str) -> None:
    book = _book(_feed(tmp_path, _product(collateral=_description(html))), "r1")

    assert "<" not in book.description
    assert ">" not in book.description
    assert "Bonjour" in book.description


# Prices.


def test_the_fixed_price_including_tax_for_the_country_wins_with_its_decimal_comma() -> None:
    # 04 for FR (22,00) beats 02 with no territory (21.00), USD 01 and GBP 02.
    assert _book("reference_3.0.xml", "exemple.fr-0001").price == Decimal("22.00")


def test_a_price_excluding_tax_is_converted_with_its_own_tax_block() -> None:
    book = _book("reference_3.0.xml", "exemple.fr-0002")

    assert book.price == Decimal("10.55")  # 10.00 + 5.5 %
    assert _book("no_namespace_2.1_short.xml", "exemple.fr-0301").price == Decimal("8.44")  # 2.1 j154


def test_a_price_excluding_tax_without_a_tax_block_is_refused_not_invented() -> None:
    book = _book("reference_3.0.xml", "exemple.fr-0003")

    assert book.price is None
    assert any("no tax block" in note for note in book.notes)
    assert any("not for sale" in note for note in book.notes)


def test_prices_in_other_currencies_are_never_taken_as_euros() -> None:
    book = _book("reference_3.0.xml", "exemple.fr-0005")

    assert book.price is None
    assert any("only GBP, USD" in note for note in book.notes)


def test_euro_prices_for_other_territories_are_not_taken() -> None:
    assert _book("reference_3.0.xml", "exemple.fr-0008").price is None


def test_the_shop_currency_and_country_choose_the_price() -> None:
    assert _book("reference_3.0.xml", "exemple.fr-0001", currency="GBP", country="GB").price == Decimal(
        "16.99"
    )
    assert _book("reference_3.0.xml", "exemple.fr-0005", currency="usd").price == Decimal("14.99")
    # The only USD price of the first book excludes tax and has no tax block.
    assert _book("reference_3.0.xml", "exemple.fr-0001", currency="USD").price is None


def test_a_price_with_no_currency_takes_the_header_default() -> None:
    assert _book("short_3.0.xml", "exemple.fr-0101").price == Decimal("9.50")  # region WORLD
    assert _book("reference_2.1.xml", "exemple.fr-0201").price == Decimal("18.50")  # CHF one ignored


def test_a_price_with_no_currency_and_no_default_is_not_taken(tmp_path: Path) -> None:
    book = _book(_feed(tmp_path, _product(supply=_price("04", "12.00", currency=""))), "r1")

    assert book.price is None


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        ("12,50", Decimal("12.50")),
        (" 12.5 ", Decimal("12.50")),
        ("1.234,56", Decimal("1234.56")),
        ("€12.00", Decimal("12.00")),
        ("12.005", Decimal("12.01")),
        ("$12.00", None),
        ("£12.00", None),
        ("0.00", None),
        ("-3.00", None),
        ("douze", None),
        ("", None),
    ],
)
def test_price_amounts(tmp_path: Path, amount: str, expected: Decimal | None) -> None:
    book = _book(_feed(tmp_path, _product(supply=_price("04", amount))), "r1")

    assert book.price == expected


def test_a_price_for_the_country_beats_one_for_no_territory(tmp_path: Path) -> None:
    france = "<Territory><CountriesIncluded>FR</CountriesIncluded></Territory>"
    prices = _price("02", "11.00") + _price("02", "12.00", territory=france)

    assert _book(_feed(tmp_path, _product(supply=prices)), "r1").price == Decimal("12.00")


def test_a_price_in_a_market_for_another_country_is_not_taken(tmp_path: Path) -> None:
    product = _product(supply=_price("04", "12.00")).replace(
        "<ProductSupply>",
        "<ProductSupply><Market><Territory><CountriesIncluded>BE</CountriesIncluded></Territory></Market>",
    )

    assert _book(_feed(tmp_path, product), "r1").price is None


def test_a_tax_rate_that_is_not_a_rate_refuses_the_price(tmp_path: Path) -> None:
    tax = "<Tax><TaxType>01</TaxType><TaxRatePercent>cinq</TaxRatePercent></Tax>"
    book = _book(_feed(tmp_path, _product(supply=_price("01", "10.00", tax=tax))), "r1")

    assert book.price is None


# Stock and availability.


def test_stock_comes_only_from_an_on_hand_count_and_availability_goes_into_notes() -> None:
    first = _book("reference_3.0.xml", "exemple.fr-0001")
    second = _book("reference_3.0.xml", "exemple.fr-0002")

    assert first.stock == 12
    assert "Supply availability 21 (In stock)." in first.notes
    assert second.stock is None  # "available" is not a number of copies
    assert "Supply availability 20 (Available)." in second.notes
    assert _book("short_3.0.xml", "exemple.fr-0101").stock == 7  # two stock locations
    assert _book("reference_2.1.xml", "exemple.fr-0201").stock == 5


def test_a_negative_on_hand_count_is_no_stock(tmp_path: Path) -> None:
    supply = "<Stock><OnHand>-4</OnHand></Stock>"

    assert _book(_feed(tmp_path, _product(supply=supply)), "r1").stock == 0


# Identifiers and notifications.


def test_a_delete_notice_withdraws_the_book_with_its_isbn_alone() -> None:
    book = _book("reference_3.0.xml", "exemple.fr-0004")

    assert book.withdrawn is True
    assert book.isbn13 == "9782000000044"
    assert (book.title, book.price, book.authors) == ("", None, ())


def test_an_isbn_10_alone_is_recovered_as_isbn_13() -> None:
    assert _book("reference_3.0.xml", "exemple.fr-0005").isbn13 == "9782840000129"
    assert _book("no_namespace_2.1_short.xml", "exemple.fr-0301").isbn13 == "9782840000129"  # 2.1 <b004>


def test_hyphens_in_an_isbn_are_recovered() -> None:
    assert _book("reference_3.0.xml", "exemple.fr-0002").isbn13 == "9782000000020"


def test_a_gtin_13_that_is_not_an_isbn_is_rejected() -> None:
    reject = _rejects("reference_3.0.xml")["record exemple.fr-0006"]

    assert reject.field == "ProductIdentifier"
    assert "not an ISBN" in reject.reason
    assert reject.value == "4006381333931"


def test_an_isbn_with_a_wrong_check_digit_is_rejected() -> None:
    reject = _rejects("reference_3.0.xml")["record exemple.fr-0007"]

    assert reject.field == "ProductIdentifier"
    assert "check digit" in reject.reason


@pytest.mark.parametrize(
    ("identifiers", "reason"),
    [
        ("", "No ISBN"),
        (_identifier("01", "SKU-1"), "No ISBN"),
        (_identifier("03", "9790000000117"), "not an ISBN"),  # 979-0: the ISMN of printed music
    ],
)
def test_a_product_without_a_usable_isbn_is_rejected_with_its_record_reference(
    tmp_path: Path, identifiers: str, reason: str
) -> None:
    items = _read(_feed(tmp_path, _product(identifiers=identifiers, reference="abc-9")))

    assert len(items) == 1
    assert isinstance(items[0], Reject)
    assert items[0].source == "record abc-9"
    assert reason in items[0].reason


def test_a_gtin_13_that_is_an_isbn_is_taken_when_the_isbn_13_is_wrong(tmp_path: Path) -> None:
    identifiers = _identifier("15", "9782000000070") + _identifier("03", "9782000000075")
    book = _book(_feed(tmp_path, _product(identifiers=identifiers)), "r1")

    assert book.isbn13 == "9782000000075"
    assert any("9782000000070" in note for note in book.notes)


def test_a_product_without_a_record_reference_is_pointed_at_by_position_and_line(tmp_path: Path) -> None:
    product = _product().replace("<RecordReference>r1</RecordReference>", "")
    (item,) = _read(_feed(tmp_path, product))

    assert item.source == "product 1 (line 2)"


# Tag styles, namespaces, safety, broken files.


def test_short_tags_in_the_3_0_short_namespace() -> None:
    book = _book("short_3.0.xml", "exemple.fr-0101")

    assert book.isbn13 == "9782000000099"
    assert book.authors == ("Nora Vidal",)
    assert book.contributors == (("Mia Relue", "B01"),)
    assert book.publisher == "Éditions du Levant"
    assert book.format == "paperback"


def test_2_1_reference_tags_in_the_editeur_namespace() -> None:
    book = _book("reference_2.1.xml", "exemple.fr-0201")

    assert (book.isbn13, book.title, book.subtitle) == (
        "9782000000105",
        "Le Jardin d'hiver",
        "Carnet de botanique",
    )
    assert book.format == "hardcover"
    assert book.publisher == "Éditions du Levant"
    assert "Imprint: Serre & Cie." in book.notes


def test_2_1_short_tags_with_no_namespace_in_latin_1() -> None:
    book = _book("no_namespace_2.1_short.xml", "exemple.fr-0301")

    assert book.title == "La Forêt"
    assert book.authors == ("Léa Dupré",)  # PersonNameInverted
    assert book.pages == 96


def test_a_remote_dtd_is_not_fetched_and_an_external_entity_is_not_expanded() -> None:
    (book,) = _read("remote_dtd_xxe.xml")

    assert isinstance(book, BookRecord)
    assert book.title == "Mots de passe"
    assert book.description == "Avant après."
    assert "root:" not in repr(book)
    assert any("not expanded" in note for note in book.notes)


def test_neither_a_local_dtd_nor_an_external_entity_file_is_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET-VALUE")
    dtd = tmp_path / "onix.dtd"
    dtd.write_text('<!ENTITY greeting "FROM-THE-DTD">')
    path = tmp_path / "feed.xml"
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<!DOCTYPE ONIXMessage SYSTEM "{dtd.as_uri()}" [<!ENTITY leak SYSTEM "{secret.as_uri()}">]>\n'
        "<ONIXMessage><Product><RecordReference>r1</RecordReference><NotificationType>03</NotificationType>"
        "<ProductIdentifier><ProductIDType>15</ProductIDType><IDValue>9782000000013</IDValue></ProductIdentifier>"
        "<Title><TitleType>01</TitleType><TitleText>A &leak; B &greeting; C</TitleText></Title>"
        "</Product></ONIXMessage>",
        encoding="utf-8",
    )
    (book,) = _read(path)

    assert isinstance(book, BookRecord)
    assert book.title == "A B C"
    assert "SECRET" not in repr(book)
    assert "FROM-THE-DTD" not in repr(book)


def test_xml_that_is_not_well_formed_raises_with_line_and_column_after_the_good_products() -> None:
    reader = read_onix(DATA / "not_well_formed.xml", currency="EUR")

    first = next(reader)
    assert isinstance(first, BookRecord)
    assert first.isbn13 == "9782000000013"
    with pytest.raises(ImportFileError, match=r"line 22, column \d+"):
        next(reader)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "not well-formed"),
        (b"<html><body>Not ONIX</body></html>", "not an ONIX for Books message"),
        (
            b'<?xml version="1.0" encoding="UTF-8"?><ONIXMessage><Product>\xff\xfe</Product></ONIXMessage>',
            "line 1",
        ),
    ],
)
def test_a_file_that_is_not_onix_is_refused_as_a_whole(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "feed.xml"
    path.write_bytes(content)

    with pytest.raises(ImportFileError, match=message):
        _read(path)


def test_a_missing_file_is_refused_as_a_whole(tmp_path: Path) -> None:
    with pytest.raises(ImportFileError, match="cannot be read"):
        _read(tmp_path / "missing.xml")


def test_an_onix_file_without_products_yields_nothing(tmp_path: Path) -> None:
    assert _read(_feed(tmp_path)) == []


# Memory.


def _isbn13(n: int) -> str:
    first12 = f"97820{n:07d}"
    total = sum(int(digit) * (1 if index % 2 == 0 else 3) for index, digit in enumerate(first12))
    return first12 + str((10 - total % 10) % 10)


def _rss() -> int:
    """Resident memory now (libxml2 allocates outside Python, where tracemalloc cannot see)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/statm")
def test_reading_a_large_feed_keeps_memory_flat(tmp_path: Path) -> None:
    description = _description("&lt;p&gt;" + "Une phrase de description assez longue. " * 25 + "&lt;/p&gt;")
    contributors = "".join(
        f"<Contributor><SequenceNumber>{n}</SequenceNumber><ContributorRole>A01</ContributorRole>"
        f"<PersonName>Auteur {n}</PersonName></Contributor>"
        for n in range(1, 4)
    )
    path = tmp_path / "big.xml"
    count = 20_000
    with path.open("w", encoding="utf-8") as out:
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n<ONIXMessage release="3.0"><Header/>')
        for n in range(count):
            out.write(
                _product(
                    _isbn13(n),
                    reference=f"r{n}",
                    descriptive=contributors,
                    collateral=description,
                    supply=_price("04", "12.50"),
                )
            )
        out.write("</ONIXMessage>")
    size = path.stat().st_size
    assert size > 30_000_000

    rss_before = _rss()
    rss_peak = rss_before
    python_peak = 0
    seen = 0
    # Python's allocations are traced over a window of 5,000 products (tracing them all would
    # triple the run time): anything kept per product would show there. libxml2's tree lives
    # outside Python and is watched through the resident size, over the whole file.
    for item in read_onix(path, currency="EUR"):
        assert isinstance(item, BookRecord)
        seen += 1
        if seen == 1000:
            tracemalloc.start()
        elif seen == 6000:
            python_peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        if seen % 1000 == 0:
            rss_peak = max(rss_peak, _rss())

    assert seen == count
    assert 0 < python_peak < size / 50
    # The whole tree of this file would take several times its size; a flat reader, a few MB.
    assert rss_peak - rss_before < size / 4
