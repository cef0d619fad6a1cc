"""Change detection in Salesforce: SOQL on SystemModstamp, in bulk, from a watermark.

Salesforce sends the console no webhooks (connectors/salesforce/webhooks.py), so the flows that
read it poll. A run asks, for each object it reads, for every record whose `SystemModstamp` is
at or after that object's watermark less the look-back: one SOQL query whose answer comes
2,000 records a page (`nextRecordsUrl`, resources-query.html). A quiet org costs one call per
object a run; a busy one a call per 2,000 changes.

The watermark (syncs/watermarks.py) is kept per brand, flow and object, and is the newest
SystemModstamp Salesforce reported among the records read: Salesforce's clock decides, not the
console's. It moves when the run has read and handled everything (the flow's `finish`); a run
that fails leaves it, and the next reads again. The look-back (`FlowConfig.lookback_minutes`,
15 by default) re-reads the last minutes, so a record whose save began before the watermark and
committed after it (SystemModstamp is stamped when the save starts) is not missed. What it reads
twice is not applied twice: the engine compares each record's content hash with what it last
sent and skips the unchanged ones. A full run reads everything, and moves the watermarks too.

`SystemModstamp`, not `LastModifiedDate`: it also moves when Salesforce itself changes the
record (an automation), and it is indexed, so the filter is selective (API guide, "System
Fields").
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from connectors.http import chunks
from syncs.flows.reading import unique, when
from syncs.watermarks import watermark_get, watermarks_save

if TYPE_CHECKING:
    from connectors.salesforce.client import Salesforce
    from syncs.engine import FlowContext

# Ids in one `IN (…)` list: 200 ids of 18 characters keep the query's URL well under the
# 16,000 characters SOQL allows in a GET.
IN_SIZE = 200
# A page of a query's answer (Sforce-Query-Options batchSize: 200–2,000).
PAGE = 2000
# Where a run notes the newest change it read of each object (ctx.cache).
SEEN = "salesforce_seen"


def soql_datetime(moment: datetime) -> str:
    """A SOQL date-time literal (unquoted, UTC): 2024-01-31T09:30:00Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def soql_quote(value: Any) -> str:
    """A SOQL string literal: quotes and backslashes escaped (SOQL's own escaping)."""
    text = str(value).replace("\\", "\\\\").replace("'", "\\'")
    return f"'{text}'"


def window(ctx: FlowContext, sobject: str) -> str:
    """The WHERE clause for what changed in `sobject` since its watermark less the look-back:
    empty for a full run (everything) or an object never read."""
    if ctx.full:
        return ""
    mark = watermark_get(brand_id=ctx.brand_id, flow=ctx.flow.code, sobject=sobject)
    if mark is None:
        return ""
    since = mark - timedelta(minutes=ctx.config.lookback_minutes)
    return f"SystemModstamp >= {soql_datetime(since)}"


def changed(
    ctx: FlowContext, sf: Salesforce, sobject: str, fields: Iterable[str], where: str = ""
) -> Iterator[dict]:
    """The records of one object changed since its watermark (all of them on a full run),
    oldest change first, a page of 2,000 a call. The newest change read is noted for the
    watermark (`watermarks_keep`)."""
    names = list(dict.fromkeys([*fields, "SystemModstamp"]))
    conditions = " AND ".join(c for c in (window(ctx, sobject), where) if c)
    # bandit B608 is wrong here: SOQL sent to Salesforce's API, not SQL; the names are the
    # flows' own constants and the only values are date-times this module formats.
    soql = f"SELECT {', '.join(names)} FROM {sobject}"  # nosec B608
    if conditions:
        soql += f" WHERE {conditions}"
    soql += " ORDER BY SystemModstamp ASC"
    seen: dict[str, datetime] = ctx.cache.setdefault(SEEN, {})
    for record in sf.query(soql, batch_size=PAGE):
        stamp = when(record.get("SystemModstamp"))
        if stamp is not None and (sobject not in seen or stamp > seen[sobject]):
            seen[sobject] = stamp
        yield record


def watermarks_keep(ctx: FlowContext) -> None:
    """After a run that read and handled everything: each object's watermark moves to the
    newest change it read (a flow's `finish`). Not for a run scoped to some ids."""
    if not ctx.scope and ctx.cache.get(SEEN):
        watermarks_save(brand_id=ctx.brand_id, flow=ctx.flow.code, seen=ctx.cache[SEEN])


def by_ids(
    sf: Salesforce, sobject: str, fields: Iterable[str], ids: Iterable[str], field: str = "Id"
) -> Iterator[dict]:
    """The records whose `field` is one of these ids, 200 ids a query."""
    names = ", ".join(fields)
    for batch in chunks(list(unique(i for i in ids if i)), IN_SIZE):
        values = ", ".join(soql_quote(i) for i in batch)
        # bandit B608 is wrong here: SOQL, not SQL; names are constants, values quoted.
        yield from sf.query(f"SELECT {names} FROM {sobject} WHERE {field} IN ({values})")  # nosec B608


def integration_user(ctx: FlowContext) -> str:
    """The id of the user the console's calls run as: a record it created or last modified
    carries it in CreatedById or LastModifiedById. Empty before a sign-in that named it."""
    sf = ctx.connector("salesforce")
    return sf.oauth.user_id if sf.oauth else ""
