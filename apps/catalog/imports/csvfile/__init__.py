"""Reading a CSV export (a library system's, Goodreads', a marketplace's, a spreadsheet's) into
``BookRecord``s and ``Reject``s, one per data row, for ``manage.py import_books``.

**Two streamed passes, so that nothing is imported from a file that is not whole.**
``read_books_csv`` reads the whole file once before returning: it decodes every byte in the
given encoding and parses every row with the csv module, keeping nothing but a row count. A
byte that is not valid in the encoding, at line 3 or at line 90,000, raises
``ImportFileError`` naming the line and the byte offset before the caller has seen a single
record; so does a quoted field left open to the end of the file. Only then does iterating over
the returned ``CsvBooks`` read the file a second time, row by row, and build the records. Memory
stays flat (one row at a time) at the cost of reading the file twice, which is disk-bound and
cheap beside the database writes; the first pass also gives the row count a progress bar needs.
The file must not change between the passes (a decode error in the second one still raises
``ImportFileError``, never a traceback).

**Columns** are matched by header name, ignoring case, accents, spaces and punctuation
(``ISBN-13``, ``isbn_13`` and ``Isbn 13`` are one name), through the English and French aliases
of ``ALIASES``. Where a file has several columns for one field the earlier alias is preferred and
the others are read when it is empty on a row (``isbn13`` before ``isbn``; ``publication_date``
or ``year`` before ``original_publication_year``). ``mapping`` (``--map column=field``) gives a
column a field, or ``ignore``; a field named by ``mapping`` is read from the mapped columns only.
A header that matches nothing is listed once in ``CsvBooks.unknown_columns`` and ignored.

**What is refused, what is kept without a value.** A row becomes a ``Reject`` when the book
cannot be identified or named: no ISBN, an ISBN that ``isbn_recover`` cannot prove (or two ISBN
columns that prove different books), no title, a title too long to store, or more values than the
header has columns (a value holding the delimiter unquoted: every value after it is shifted, so
none can be trusted). Everything else is optional: a bad price (not a number, negative, zero, in
another currency, ambiguous), stock, page count, year, language, format or cover address leaves
that one field empty and adds a note to ``BookRecord.notes``; the book is still imported (a book
without a usable price is imported and not for sale). Notes read ``"<field>: <what>"`` and quote
the value as written, e.g. ``"price: '$12.00' is in USD, not EUR: not kept"``.

**Authors** are separated by ``;``, ``/`` or ``|``, or else by commas. "Last, First" names are
rare in the exports this reads (Goodreads writes ``J.K. Rowling / Mary GrandPré``), so a comma
separates authors, except that a part made of initials (``Tolkien, J. R. R.``) or a suffix
(``King, Jr.``) belongs to the name before it, and a field that is exactly two single words
(``Rowling, Joanne``) is one name; where ``;``, ``/`` or ``|`` separate the names, a name with one
comma is "Last, First". A "Last, First" name is turned to "First Last", with a note.

Blank lines and rows whose every value is empty are skipped: they are not data rows.

Modules: ``reader`` (the file: encoding, delimiter, the two passes), ``columns`` (the header),
``rows`` (a row into a record), ``values`` (each field's value from its text).
"""

from .columns import ALIASES, FIELDS, IGNORE
from .reader import CsvBooks, read_books_csv

__all__ = ["ALIASES", "FIELDS", "IGNORE", "CsvBooks", "read_books_csv"]
