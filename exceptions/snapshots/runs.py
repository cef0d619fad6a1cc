"""Renderers of the tickets about a flow as a whole: a run that failed, crashed or ran out of
attempts; a connection refused; a flow behind, silent, or corrected by the daily check; a
webhook source naming ids that do not exist."""

from __future__ import annotations

from datetime import datetime
from http import HTTPStatus
from typing import TYPE_CHECKING

from brands.times import readable_time
from exceptions.hooks import flow_label
from exceptions.snapshots.base import SnapshotView, as_int, renderer
from exceptions.words import count, duration, joined, vendor_name

if TYPE_CHECKING:
    from exceptions.models import Ticket


def _answer(status: object) -> str:
    """'HTTP 401 (Unauthorized)'; 'no answer' for a vendor that did not answer at all."""
    code = as_int(status)
    if not code:
        return "no answer"
    try:
        return f"HTTP {code} ({HTTPStatus(code).phrase})"
    except ValueError:
        return f"HTTP {code}"


CONNECTION_SENTENCES = {
    "auth_failure": "{vendor} refused the console's credentials ({answer}).",
    "configuration_missing": "{vendor} could not be used as set up: a setting it needs is "
    "missing or wrong ({answer}).",
    "api_allowance_spent": "{vendor}'s API allowance was spent ({answer}), and it does not "
    "refill before the run's next try.",
}


@renderer(*CONNECTION_SENTENCES, keys=("run", "status", "path"))
def connection_refused(ticket: Ticket, data: dict) -> SnapshotView | None:
    vendor = vendor_name(ticket.source_system, "The vendor")
    answer = _answer(data.get("status"))
    sentence = CONNECTION_SENTENCES[ticket.type.code].format(vendor=vendor, answer=answer)
    if data.get("run") is not None:
        sentence += f" Run {data['run']} stopped there and starts again by itself once it is fixed."
    facts = [("Answer", answer)]
    if data.get("path"):
        facts.append(("Address asked", str(data["path"])))
    if data.get("run") is not None:
        facts.insert(0, ("Run", str(data["run"])))
    return SnapshotView(sentence=sentence, facts=facts)


RUN_SENTENCES = {
    "attempts_exhausted": "Run {run} failed on every attempt and is not tried again by itself.",
    "run_crashed": "Run {run} stopped on an unexpected error. The agency has the details in "
    "the server log, under run {run}.",
}


@renderer(*RUN_SENTENCES, keys=("run", "waiting_ids"))
def run_stopped(ticket: Ticket, data: dict) -> SnapshotView | None:
    if data.get("run") is None:
        return None
    ids = data.get("waiting_ids") or []
    scope = (
        f"It was syncing {count(len(ids), 'record')}: {joined(ids)}."
        if ids
        else f"It was a run of the whole of {_flow(ticket)}, not of some records."
    )
    facts = [("Run", str(data["run"]))]
    facts.append(("Records of the run", joined(ids) if ids else "all (the whole flow)"))
    return SnapshotView(
        sentence=f"{RUN_SENTENCES[ticket.type.code].format(run=data['run'])} {scope}",
        facts=facts,
    )


@renderer("sync_delayed", keys=("behind_minutes", "allowed_minutes"))
def sync_delayed(ticket: Ticket, data: dict) -> SnapshotView | None:
    if data.get("behind_minutes") is None:
        return None
    behind = as_int(data["behind_minutes"])
    sentence = f"The oldest change not yet read is {duration(behind)} old"
    facts = [("Behind by", duration(behind))]
    if data.get("allowed_minutes") is not None:
        allowed = as_int(data["allowed_minutes"])
        sentence += f"; more than {duration(allowed)} counts as a delay"
        facts.append(("Allowed", duration(allowed)))
    return SnapshotView(sentence=sentence + ".", facts=facts)


@renderer("webhook_unknown_ids", keys=("unknown_ids", "known_ids", "connection"))
def webhook_unknown_ids(ticket: Ticket, data: dict) -> SnapshotView | None:
    if data.get("unknown_ids") is None:
        return None
    vendor = vendor_name(ticket.source_system, "the vendor")
    unknown, known = as_int(data["unknown_ids"]), as_int(data.get("known_ids"))
    facts = [("Ids that do not exist", f"{unknown:,}"), ("Ids that exist", f"{known:,}")]
    if data.get("connection") is not None:
        facts.append(("Connection", f"{vendor} (number {data['connection']})"))
    return SnapshotView(
        sentence=f"Webhooks to this brand's {vendor} address named {count(unknown, 'id')} that "
        f"{vendor} does not have, and {known:,} that it has. They are refused for a while; "
        "the scheduled runs still pick up every real change.",
        facts=facts,
    )


@renderer("silent_flow", keys=("from", "to", "sent", "usual", "weeks", "enough"))
def silent_flow(ticket: Ticket, data: dict) -> SnapshotView | None:
    if data.get("sent") is None or data.get("usual") is None:
        return None
    start, end = _time(data.get("from"), ticket), _time(data.get("to"), ticket)
    window = f"From {start} to {end}" if start and end else "In the last hours"
    sent, usual = as_int(data["sent"]), as_int(data["usual"])
    weeks = data.get("weeks") if isinstance(data.get("weeks"), list) else []
    facts = [("Window", f"{start} to {end}")] if start and end else []
    facts += [("Sent", f"{sent:,}"), ("Usually", f"{usual:,}")]
    if weeks:
        facts.append(("Same hours, past weeks", joined(weeks)))
    if data.get("enough") is not None:
        facts.append(("Back to normal at", f"{as_int(data['enough']):,} or more in the window"))
    return SnapshotView(
        sentence=f"{window}, {count(sent, 'record')} went through "
        f"{_flow(ticket)}; at these hours it is usually {usual:,}. "
        "Nothing failed: the records did not come. The ticket resolves itself when they do.",
        facts=facts,
    )


def _flow(ticket: Ticket) -> str:
    label = flow_label(ticket.flow)
    return f"“{label}”" if label else "the flow"


def _time(value: object, ticket: Ticket) -> str:
    try:
        return readable_time(datetime.fromisoformat(str(value)), ticket.brand) if value else ""
    except ValueError:
        return str(value)


DRIFT_KEYS = ("run", "compared", "differed", "ids", "target", "mapping_changes")


@renderer("drift_found", keys=DRIFT_KEYS)
def drift_found(ticket: Ticket, data: dict) -> SnapshotView | None:
    if data.get("differed") is None:
        return None
    differed, compared = as_int(data["differed"]), as_int(data.get("compared"))
    target = vendor_name(str(data.get("target") or ""))
    ids = data.get("ids") or []
    run = f" (run {data['run']})" if data.get("run") is not None else ""
    changes = as_int(data.get("mapping_changes"))
    facts = [
        ("Compared", f"{compared:,}"),
        ("Differed", f"{differed:,}"),
        ("Which", joined(ids, differed) or "—"),
    ]
    if changes:
        facts.append(("Mapping changes since the last check", f"{changes:,}"))
    return SnapshotView(
        sentence=f"The daily check{run} compared {count(compared, 'record')} with {target}: "
        f"{differed:,} differed and {'was' if differed == 1 else 'were'} sent again, so "
        f"{'it matches' if differed == 1 else 'they match'} now.",
        facts=facts,
    )
