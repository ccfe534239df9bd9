"""Catalogue search: a word index computed in Python, the same on PostgreSQL and SQLite.

``text`` folds and stems words, ``index`` keeps the index of terms, typo keys and postings
fresh (``search_index_refresh``), ``query`` answers a search in a fixed number of statements.
"""
