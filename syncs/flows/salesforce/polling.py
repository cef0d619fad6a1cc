"""Change detection in Salesforce: SOQL on SystemModstamp, in bulk, from a watermark.

Salesforce sends the console no webhooks (connectors/salesforce/webhooks.py), so the flows that
read it poll. A run asks for every record of one object whose `SystemModstamp` lies in the
run's window, `SystemModstamp >= {watermark − look-back} AND SystemModstamp <= {run start}`,
with one SOQL query whose answer comes 2,000 records a page (`nextRecordsUrl`,
resources-query.html): a quiet org costs one call a run, a busy one a call per 2,000 changes.

The watermark is the engine's cursor (`FlowConfig.cursor`), kept per brand and per flow, and
each polling flow reads one object (Account, Order…), so it is per brand and object. It moves
to the run's start only when the run has read everything (a failed run leaves it), and the
look-back (`FlowConfig.lookback_minutes`, 15 by default) re-reads the last minutes: a record
saved in a transaction that began before the watermark but committed after it (SystemModstamp
is stamped when the save starts), or a clock a little apart from Salesforce's, is not missed.
What the look-back reads twice is not applied twice: the engine compares each record's content
hash with what it last sent and skips the unchanged ones.

`SystemModstamp`, not `LastModifiedDate`: it also moves when Salesforce itself changes the
record (a roll-up, an automation), and it is indexed, so the filter is selective
(developer.salesforce.com, "SystemModstamp", Object Reference: System Fields).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from connectors.http import chunks
from syncs.flows.reading import unique

if TYPE_CHECKING:
    from connectors.salesforce.client import Salesforce
    from syncs.engine import FlowContext

# Ids in one `IN (…)` list: 200 ids of 18 characters keep the query's URL well under the
# 16,000 characters SOQL allows in a GET.
IN_SIZE = 200
# A page of a query's answer (Sforce-Query-Options batchSize: 200–2,000).
PAGE = 2000


def soql_datetime(moment: datetime) -> str:
    """A SOQL date-time literal (unquoted, UTC): 2024-01-31T09:30:00Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def soql_quote(value: Any) -> str:
    """A SOQL string literal: quotes and backslashes escaped (SOQL's own escaping)."""
    text = str(value).replace("\\", "\\\\").replace("'", "\\'")
    return f"'{text}'"


def window(ctx: FlowContext) -> str:
    """The WHERE clause for the run's changes: empty for a full run (everything)."""
    if ctx.full or ctx.since is None:
        return ""
    clause = f"SystemModstamp >= {soql_datetime(ctx.since)}"
    if ctx.until is not None:
        clause += f" AND SystemModstamp <= {soql_datetime(ctx.until)}"
    return clause


def changed(
    ctx: FlowContext, sf: Salesforce, sobject: str, fields: Iterable[str], where: str = ""
) -> Iterator[dict]:
    """The records of one object changed in the run's window (all of them on a full run),
    oldest change first, a page of 2,000 a call."""
    conditions = " AND ".join(c for c in (window(ctx), where) if c)
    soql = f"SELECT {', '.join(fields)} FROM {sobject}"
    if conditions:
        soql += f" WHERE {conditions}"
    soql += " ORDER BY SystemModstamp ASC"
    return sf.query(soql, batch_size=PAGE)


def by_ids(
    sf: Salesforce, sobject: str, fields: Iterable[str], ids: Iterable[str], field: str = "Id"
) -> Iterator[dict]:
    """The records whose `field` is one of these ids, 200 ids a query."""
    names = ", ".join(fields)
    for batch in chunks(list(unique(i for i in ids if i)), IN_SIZE):
        values = ", ".join(soql_quote(i) for i in batch)
        yield from sf.query(f"SELECT {names} FROM {sobject} WHERE {field} IN ({values})")


def integration_user(ctx: FlowContext) -> str:
    """The id of the user the console's calls run as: a record it created or last modified
    carries it in CreatedById or LastModifiedById. Empty before a sign-in that named it."""
    sf = ctx.connector("salesforce")
    return sf.oauth.user_id if sf.oauth else ""
