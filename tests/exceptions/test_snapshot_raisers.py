"""The renderers know the snapshots that are really raised: this reads the source of every
`ticket_raise(...)` and `TicketSpec(...)` in the console, and holds each snapshot's keys to
the renderer of its type and to the samples the renderer tests replay.

A raiser that adds a key, or a new raiser, fails here until its renderer (exceptions/
snapshots/) names the key and tests/exceptions/snapshot_samples.py carries the same shape.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from exceptions.snapshots import RENDERERS
from tests.exceptions.snapshot_samples import SAMPLES

APPS = ("brands", "connectors", "console", "exceptions", "syncs")
RAISERS = ("ticket_raise", "TicketSpec")
# Raisers whose type is a variable: the types it can hold, by file and variable.
VARIABLE_TYPES = {
    ("syncs/services.py", "type_code"): {
        "auth_failure",
        "configuration_missing",
        "api_allowance_spent",
    },
    # A refusal that names its own ticket (connectors.http.RecordError.ticket_type).
    ("syncs/flows/base.py", "failure.ticket_type"): {"salesforce_multiple_matches"},
}
# Calls that pass on what a TicketSpec(...) holds: those TicketSpecs are scanned themselves.
PASSED_ON = {("syncs/batches.py", "spec.type_code")}


@dataclass(frozen=True)
class Raise:
    where: str
    type_codes: frozenset[str]
    keys: frozenset[str] | None  # None: the snapshot is not a dict literal (passed along)


def _name(func: ast.expr) -> str:
    return func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")


def _constants(tree: ast.Module) -> dict[str, str]:
    """The module's NAME = "string" assignments (TICKET_TYPE = "unmapped_value")."""
    found = {}
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    found[target.id] = node.value.value
    return found


def raises_in_source() -> list[Raise]:
    base = Path(settings.BASE_DIR)
    found = []
    for app in APPS:
        for path in sorted((base / app).rglob("*.py")):
            relative = path.relative_to(base).as_posix()
            if "/migrations/" in relative:
                continue
            tree = ast.parse(path.read_text(), relative)
            constants = _constants(tree)
            for node in ast.walk(tree):
                if not (isinstance(node, ast.Call) and _name(node.func) in RAISERS):
                    continue
                args = {k.arg: k.value for k in node.keywords if k.arg}
                code = args.get("type_code")
                if code is None:
                    continue
                if isinstance(code, ast.Constant):
                    codes = {code.value}
                elif isinstance(code, ast.Name) and code.id in constants:
                    codes = {constants[code.id]}
                else:
                    variable = ast.unparse(code)
                    if (relative, variable) in PASSED_ON:
                        continue
                    codes = VARIABLE_TYPES.get((relative, variable), {f"?{variable}"})
                snapshot = args.get("snapshot")
                keys = None
                if isinstance(snapshot, ast.Dict):
                    keys = frozenset(k.value for k in snapshot.keys if isinstance(k, ast.Constant))
                elif snapshot is None:
                    keys = frozenset()
                found.append(Raise(f"{relative}:{node.lineno}", frozenset(codes), keys))
    return found


def test_the_scan_finds_the_raisers():
    found = raises_in_source()
    codes = set().union(*(r.type_codes for r in found))
    # A floor, so a scan that silently stopped finding anything fails.
    assert {"drift_found", "silent_flow", "unmapped_status", "rejected_by_target"} <= codes
    assert len(found) >= 15


def test_every_raised_type_has_a_renderer_and_a_known_type_code():
    unknown = {
        (r.where, code) for r in raises_in_source() for code in r.type_codes if code.startswith("?")
    }
    assert unknown == set(), "name the types this variable holds in VARIABLE_TYPES"
    missing = {
        (r.where, code)
        for r in raises_in_source()
        for code in r.type_codes
        if code not in RENDERERS
    }
    assert missing == set(), "these types have no renderer in exceptions/snapshots/"


def test_every_key_a_raiser_keeps_is_one_its_renderer_shows():
    unshown = {
        (r.where, code, key)
        for r in raises_in_source()
        if r.keys
        for code in r.type_codes
        for key in r.keys - RENDERERS[code].keys
    }
    assert unshown == set(), "name these keys in the type's renderer (or the page shows them raw)"


def test_the_samples_have_the_raisers_shapes():
    samples = {}
    for sample in SAMPLES:
        samples.setdefault(sample.type_code, set()).add(frozenset(sample.snapshot))
    for raised in raises_in_source():
        if raised.keys is None:
            continue
        for code in raised.type_codes:
            assert raised.keys in samples.get(code, set()), (
                f"{raised.where}: a {code} snapshot with keys {sorted(raised.keys)} has no "
                "sample in tests/exceptions/snapshot_samples.py"
            )
