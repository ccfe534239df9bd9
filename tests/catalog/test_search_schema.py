"""The word index's shape on PostgreSQL, where the searches' plans depend on it."""

import pytest
from django.db import connection

from tests.services import requires_postgres

pytestmark = [requires_postgres, pytest.mark.django_db]


def test_the_postings_key_carries_the_field_length_for_index_only_reads():
    # A search reads a term's postings (book, field, length) from the key alone: the key must
    # carry ``length`` (migration 0011), or each posting read visits the table's page too.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.indnkeyatts, ARRAY(SELECT a.attname FROM unnest(i.indkey) WITH ORDINALITY k(n, o) "
            "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.n ORDER BY k.o) "
            "FROM pg_index i WHERE i.indrelid = 'catalog_searchposting'::regclass AND i.indisprimary"
        )
        keys, columns = cursor.fetchone()
    assert (keys, columns) == (3, ["term_id", "book_id", "field", "length"])
