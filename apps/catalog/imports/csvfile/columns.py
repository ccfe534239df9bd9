"""The header: each column's field, by the English and French aliases of ``ALIASES``."""

from collections.abc import Mapping
from dataclasses import dataclass

from ..records import ImportFileError
from .values import _clean, _key

FIELDS = (
    "isbn",
    "title",
    "subtitle",
    "authors",
    "publisher",
    "publication_date",
    "language",
    "price",
    "currency",
    "stock",
    "categories",
    "description",
    "cover_url",
    "pages",
    "format",
)
IGNORE = "ignore"

# Header names, as ``_key`` writes them, in order of preference within a field.
ALIASES: dict[str, tuple[str, ...]] = {
    "isbn": ("isbn13", "ean13", "gtin13", "isbn", "ean", "gtin", "codeean", "isbn10"),
    "title": ("title", "titre", "booktitle", "titredulivre"),
    "subtitle": ("subtitle", "soustitre"),
    "authors": ("authors", "author", "auteurs", "auteur"),
    "publisher": ("publisher", "editeur", "editeurs", "maisondedition"),
    "publication_date": (
        "publicationdate",
        "datedepublication",
        "datedeparution",
        "dateparution",
        "parution",
        "published",
        "publicationyear",
        "yearpublished",
        "year",
        "annee",
        "anneedepublication",
        "anneedeparution",
        "date",
        "originalpublicationyear",
    ),
    "language": ("language", "languagecode", "langue", "lang", "codelangue"),
    "price": ("price", "prix", "prixttc", "prixpublic", "prixdevente", "retailprice", "listprice"),
    "currency": ("currency", "devise", "monnaie"),
    "stock": ("stock", "quantity", "quantite", "qty", "qte"),
    "categories": ("categories", "category", "categorie", "genres", "genre"),
    "description": ("description", "resume", "summary", "synopsis", "quatriemedecouverture"),
    "cover_url": ("coverurl", "imageurl", "cover", "couverture", "urlcouverture", "image", "urlimage"),
    "pages": ("pages", "numpages", "nombredepages", "numberofpages", "nbpages", "nbdepages", "pagecount"),
    "format": ("format", "binding", "reliure", "support"),
}
_ALIAS_RANK: dict[str, tuple[str, int]] = {
    alias: (field, rank) for field, aliases in ALIASES.items() for rank, alias in enumerate(aliases)
}


# --- The header -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Columns:
    header: list[str]
    by_field: dict[str, tuple[int, ...]]  # column indexes, preferred first
    unknown: list[str]


def _field_named(name: str) -> str | None:
    """The field ``name`` (a field or one of its aliases) stands for; ``IGNORE`` for ignore."""
    key = _key(name)
    if key in ("", IGNORE):
        return IGNORE
    for field in FIELDS:
        if key == _key(field):
            return field
    return _ALIAS_RANK[key][0] if key in _ALIAS_RANK else None


def _columns(header: list[str], mapping: Mapping[str, str]) -> _Columns:
    names = [_clean(name) for name in header]
    keys = [_key(name) for name in names]
    mapped: dict[int, str] = {}
    for column, target in mapping.items():
        field = _field_named(target)
        if field is None:
            raise ImportFileError(
                f"--map {column}={target}: {target!r} is not a field (the fields: {', '.join(FIELDS)}, "
                f"or {IGNORE})."
            )
        indexes = [index for index, key in enumerate(keys) if key == _key(column) and key]
        if not indexes:
            raise ImportFileError(
                f"--map {column}={target}: the header has no column {column!r} "
                f"(its columns: {', '.join(name for name in names if name)})."
            )
        for index in indexes:
            mapped[index] = field
    exclusive = set(mapped.values())
    ranked: dict[str, list[tuple[int, int]]] = {}
    unknown: list[str] = []
    for index, key in enumerate(keys):
        if index in mapped:
            if mapped[index] != IGNORE:
                ranked.setdefault(mapped[index], []).append((-1, index))
            continue
        field, rank = _ALIAS_RANK.get(key, ("", 0))
        if field and field not in exclusive:
            ranked.setdefault(field, []).append((rank, index))
        elif names[index]:
            unknown.append(names[index])
    by_field = {field: tuple(index for _, index in sorted(found)) for field, found in ranked.items()}
    for required in ("isbn", "title"):
        if required not in by_field:
            raise ImportFileError(
                f"The header has no {required} column (its columns: "
                f"{', '.join(name for name in names if name)}); name one with --map COLUMN={required}."
            )
    return _Columns(header=names, by_field=by_field, unknown=unknown)
