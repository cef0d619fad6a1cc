"""The shape of the code: the layers hold, and no production module reaches the sandbox."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ("brands", "connectors", "exceptions", "syncs", "console")
# Tools for people and tests, never on a request's or a task's path: they start the sandbox.
TOOLS = {
    "connectors.bench",
    "connectors.management.commands.sandbox",
    "console.demo",
    "console.management.commands.demo",
    "syncs.management.bench_bigcommerce",
    "syncs.management.bench_mailchimp",
    "syncs.management.bench_prices",
    "syncs.management.bench_salesforce",
    "syncs.management.bench_salesforce_orders",
    "syncs.management.commands.bench",
    "syncs.management.commands.bench_freshness",
    "syncs.management.commands.bench_prices",
    "syncs.management.commands.bench_salesforce_orders",
    "syncs.management.commands.chaos",
    "syncs.management.freshness_setup",
    "syncs.management.processes",
}


def _is_sandbox(module: str) -> bool:
    parts = module.split(".")
    return module.startswith("connectors.sandbox") or any(p.startswith("fake") for p in parts)


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph(*APPS, cache_dir=None)


def test_the_layers_contract_holds():
    """lint-imports, as CI runs it: UI → syncs → exceptions → connectors → brands."""
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run(
        [str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


def sandbox_leaks(graph: grimp.ImportGraph) -> list[str]:
    """Each production module that reaches a sandbox module, directly or not, with the chain."""
    sandbox = {m for m in graph.modules if _is_sandbox(m)}
    production = {m for m in graph.modules if m not in sandbox and m not in TOOLS}
    leaks = []
    for module in sorted(production):
        for target in sorted(sandbox):
            chain = graph.find_shortest_chain(importer=module, imported=target)
            if chain:
                leaks.append(" → ".join(chain))
                break
    return leaks


def test_no_production_module_imports_the_sandbox(graph):
    modules = graph.modules
    assert "connectors.sandbox.server" in modules and "connectors.brightpearl.fake" in modules
    leaks = sandbox_leaks(graph)
    assert not leaks, "Production code reaches the sandbox:\n" + "\n".join(leaks)


def test_the_check_finds_a_leak():
    """The check above can fail: a fake imported by the engine is caught, and so is every
    module that imports the engine (the import is indirect for them)."""
    graph = grimp.build_graph(*APPS, cache_dir=None)
    graph.add_import(importer="syncs.engine", imported="connectors.ometria.fake")
    leaks = sandbox_leaks(graph)
    assert any(leak.startswith("syncs.engine → connectors.ometria.fake") for leak in leaks)
    assert any(leak.startswith("syncs.services → syncs.engine") for leak in leaks)


def test_brands_import_no_other_app(graph):
    """The bottom layer: every app imports brands, and brands imports none of them."""
    imported = {
        target.split(".")[0]
        for module in graph.find_descendants("brands") | {"brands"}
        for target in graph.find_modules_directly_imported_by(module)
    }
    assert imported <= {"brands"}, imported
