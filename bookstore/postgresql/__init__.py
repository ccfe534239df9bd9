"""The shop's PostgreSQL backend: Django's, with a health check that asks the server nothing
when the connection shows no sign of trouble (``base.DatabaseWrapper``)."""
