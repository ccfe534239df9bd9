"""Catalogue imports (``manage.py import_books``, ``import_onix``, ``import_categories``).

A file is read by a reader (``csvfile``, ``onix``) into ``BookRecord``s and
``Reject``s, one per row or product; ``runner`` merges a book listed twice, cuts the records
into batches and hands each batch to ``writer``, which upserts it by ISBN-13 in one
transaction. The readers never touch the database; the writer never reads a file.
"""
