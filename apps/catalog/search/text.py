"""Folding text into index words: the one definition for the index and the queries.

A word is folded by NFKD, accents stripped, casefolded; French and Italian elisions (``l'``,
``d'``, ``qu'``…) and the English possessive ``'s`` are dropped; hyphens and punctuation split
words; digits are kept. Stems (Snowball, through PyStemmer) are those of French and English.
"""

import hashlib
import re
import unicodedata
from functools import lru_cache
from itertools import combinations

import Stemmer

# Letters NFKD leaves whole, written as the letters readers type for them.
_LIGATURES = str.maketrans(
    {"œ": "oe", "æ": "ae", "ø": "o", "đ": "d", "ł": "l", "\u0131": "i", "ð": "d", "þ": "th"}
)
_APOSTROPHES = re.compile("[\u2019\u2018\u02bc\u02b9`\u00b4\u2032]")
# An elided article or pronoun before an apostrophe, or an English possessive after one.
_ELISION = re.compile(r"(?<![^\W_])(?:qu|[ldjnscmt])'|'s(?![^\W_])")
_WORD = re.compile(r"[^\W_]+")
_ELIDED = frozenset({"l", "d", "j", "n", "s", "c", "m", "t", "qu"})

LANGUAGES = ("fr", "en")
_STEMMERS = {"fr": Stemmer.Stemmer("french"), "en": Stemmer.Stemmer("english")}

# The longest word kept (longer runs of letters are not words anyone types).
WORD_MAX = 60


# Combining marks (accents) left by NFKD: the blocks Latin, Greek and Cyrillic text uses.
_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")


def fold(text: str) -> str:
    """``text`` accent-stripped, casefolded, apostrophes made plain."""
    if text.isascii():  # most of a catalogue is: nothing to decompose
        return text.casefold()
    text = _COMBINING.sub("", unicodedata.normalize("NFKD", _APOSTROPHES.sub("'", text)))
    return text.casefold().translate(_LIGATURES)


@lru_cache(maxsize=65536)
def folded_words(text: str) -> tuple[str, ...]:
    """``words`` as a tuple, remembered (read it, never change it)."""
    folded = _ELISION.sub(" ", fold(text))
    found = [word for word in _WORD.findall(folded) if len(word) <= WORD_MAX]
    # An elision typed without its apostrophe ("l etranger") is dropped the same way.
    return tuple(word for index, word in enumerate(found) if word not in _ELIDED or index == len(found) - 1)


def words(text: str) -> list[str]:
    """The folded words of ``text``, in order (repeats kept). Names and publishers repeat
    through a catalogue: their words are remembered."""
    return list(folded_words(text))


@lru_cache(maxsize=65536)
def stems(word: str, languages: tuple[str, ...] = LANGUAGES) -> tuple[str, ...]:
    """The stems of ``word`` in ``languages`` that differ from it (none for a number), remembered:
    an import asks for those of every word of every title."""
    if word.isdigit() or len(word) < 3:
        return ()
    return tuple(dict.fromkeys(stem for language in languages if (stem := stem_word(language, word)) != word))


@lru_cache(maxsize=65536)
def stem_word(language: str, word: str) -> str:
    """The stem of ``word`` in ``language`` (remembered)."""
    return _STEMMERS[language].stemWord(word)


def stem_languages(language: str) -> tuple[str, ...]:
    """The stemmers of a book in ``language``: its own when known, both when not."""
    return (language,) if language in LANGUAGES else LANGUAGES


def typo_budget(word: str) -> int:
    """Typos a query word may have (Meilisearch's defaults): none under 5 letters, one up to 8,
    two from 9; none in a number."""
    if word.isdigit():
        return 0
    return 0 if len(word) < 5 else 1 if len(word) < 9 else 2


def delete_distance(word: str) -> int:
    """How many letters the index deletes from a word for its typo keys: 1 from 4 letters, 2
    from 7, none for shorter words or numbers. A query word within its budget of a word (OSA
    distance, a swap counting one) shares a key with it: each side deletes at most the budget."""
    if word.isdigit():
        return 0
    return 0 if len(word) < 4 else 1 if len(word) < 7 else 2


def deletes(word: str, distance: int) -> set[str]:
    """``word`` and every string made by deleting up to ``distance`` of its letters."""
    found = {word}
    for count in range(1, min(distance, len(word) - 1) + 1):
        for positions in combinations(range(len(word)), count):
            found.add("".join(char for index, char in enumerate(word) if index not in positions))
    return found


def key(variant: str) -> int:
    """The 64-bit signed key of a deletion variant (``SearchDelete.key``)."""
    return int.from_bytes(hashlib.blake2b(variant.encode(), digest_size=8).digest(), "big", signed=True)
