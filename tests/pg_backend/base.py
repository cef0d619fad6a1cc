"""PostgreSQL for the test suite, flushed by DELETE rather than TRUNCATE.

Every transactional test ends with a flush of every table. A TRUNCATE of the project's 45
tables makes new files for each: about 300 ms, empty or not, some 470 times a run. DELETE of
the few rows a test wrote takes a few ms. Django's foreign keys are DEFERRABLE INITIALLY
DEFERRED and the flush runs in one transaction, so the order of the DELETEs does not matter.
"""

from __future__ import annotations

from django.db.backends.postgresql import base, operations


class DatabaseOperations(operations.DatabaseOperations):
    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        if reset_sequences or not tables:
            return super().sql_flush(
                style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
            )
        return [f"{style.SQL_KEYWORD('DELETE FROM')} {self.quote_name(t)};" for t in tables]


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations
