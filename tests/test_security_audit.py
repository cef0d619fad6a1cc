"""`make audit`: bandit finds nothing of medium or high severity in the console's code, and the
dependency audit's verdict cannot pass for a clean one when nothing was checked."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _dependency_audit():
    spec = importlib.util.spec_from_file_location(
        "dependency_audit", ROOT / ".ci/dependency_audit.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


audit = _dependency_audit()


@pytest.mark.slow
def test_bandit_finds_nothing_of_medium_or_high_severity(tmp_path):
    out = tmp_path / "bandit.json"
    bandit = Path(sys.executable).with_name("bandit")
    done = subprocess.run(
        [
            str(bandit),
            "-c",
            "pyproject.toml",
            "-r",
            "brands",
            "connectors",
            "console",
            "exceptions",
            "syncs",
            "manage.py",
            "gunicorn.conf.py",
            "--severity-level",
            "medium",
            "--format",
            "json",
            "--output",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    report = json.loads(out.read_text())
    found = [
        f"{r['filename']}:{r['line_number']} {r['test_id']} {r['issue_text']}"
        for r in report["results"]
    ]
    assert found == [], "\n".join(found)
    assert done.returncode == 0
    # It really scanned the code, not an empty selection.
    assert report["metrics"]["_totals"]["loc"] > 10_000


def _report(*deps: dict) -> str:
    return json.dumps({"dependencies": list(deps), "fixes": []})


def test_no_network_says_the_audit_did_not_run():
    status, lines = audit.verdict("", "ConnectionError: [Errno 101]", require_network=False)
    assert status == 0
    assert "did NOT run" in lines[0] and "Errno 101" in lines[1]
    # Where the network is expected (CI), not running is a failure.
    assert audit.verdict("", "boom", require_network=True)[0] == 1


def test_every_package_not_found_is_not_a_clean_audit():
    stdout = _report(
        {"name": "django", "skip_reason": "Dependency not found on PyPI and could not be audited"},
        {"name": "httpx", "skip_reason": "Dependency not found on PyPI and could not be audited"},
    )
    status, lines = audit.verdict(stdout, "", require_network=False)
    assert status == 0
    assert "did NOT run" in lines[0] and "All 2 packages" in lines[1]
    assert not any("no known vulnerability" in line for line in lines)
    assert audit.verdict(stdout, "", require_network=True)[0] == 1


def test_a_known_vulnerability_fails_and_is_named():
    stdout = _report(
        {
            "name": "django",
            "version": "5.2.0",
            "vulns": [{"id": "PYSEC-1", "fix_versions": ["5.2.1"]}],
        },
        {"name": "httpx", "version": "0.28.1", "vulns": []},
    )
    status, lines = audit.verdict(stdout, "", require_network=False)
    assert status == 1
    assert "VULNERABLE: django 5.2.0: PYSEC-1 (fixed in 5.2.1)" in lines
    assert "1 of 2 packages have known vulnerabilities." in lines


def test_a_clean_audit_counts_what_it_checked_and_names_what_it_could_not():
    stdout = _report(
        {"name": "django", "version": "5.2.8", "vulns": []},
        {"name": "private-thing", "skip_reason": "Dependency not found on PyPI"},
    )
    status, lines = audit.verdict(stdout, "", require_network=True)
    assert status == 0
    assert lines == [
        "Not audited (1): private-thing",
        "1 packages audited: no known vulnerability.",
    ]
