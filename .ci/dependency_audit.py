"""The dependency audit of `make audit`: pip-audit over the virtualenv, with a verdict that
cannot be mistaken for a clean bill when nothing was checked.

pip-audit asks a vulnerability database on the network (PyPI's JSON API by default). With no
network it fails; behind a proxy or mirror that answers 404 it reports every package as "not
found on PyPI" and then prints "No known vulnerabilities found", which would read as a pass.
So this counts the packages really audited, and says plainly when none were.

Exit status: 1 when a package has a known vulnerability; 0 otherwise, including when the
database could not be reached (the output says the audit did not run), unless
AUDIT_REQUIRE_NETWORK=1, as in CI where the network is expected: then not running is 1 too.
"""

from __future__ import annotations

import json
import os
import subprocess  # nosec B404 - runs pip-audit from this virtualenv, with fixed arguments
import sys
from pathlib import Path

PIP_AUDIT = Path(sys.executable).with_name("pip-audit")
COMMAND = [
    str(PIP_AUDIT),
    "--skip-editable",  # the console itself is not on PyPI
    "--progress-spinner",
    "off",
    "--timeout",
    "15",
    "--desc",
    "off",
    "--format",
    "json",
]
NOT_RUN = (
    "The dependency audit did NOT run: pip-audit could not reach its vulnerability database "
    "(PyPI), so no package was checked. Run `make audit` on a machine with network access; "
    "AUDIT_REQUIRE_NETWORK=1 makes a missed audit fail."
)


def verdict(stdout: str, stderr: str, *, require_network: bool) -> tuple[int, list[str]]:
    """(exit status, lines to print) for one pip-audit run's output."""
    try:
        report = json.loads(stdout)
        dependencies = report["dependencies"]
    except (ValueError, KeyError, TypeError):
        reason = (stderr.strip().splitlines() or ["no output"])[-1]
        return int(require_network), [NOT_RUN, f"pip-audit said: {reason}"]
    audited = [d for d in dependencies if "skip_reason" not in d]
    skipped = [d for d in dependencies if "skip_reason" in d]
    if not audited:
        return int(require_network), [
            NOT_RUN,
            f"(All {len(skipped)} packages came back as not found: the database answering "
            "is not PyPI's.)",
        ]
    lines = []
    vulnerable = [d for d in audited if d.get("vulns")]
    for dep in vulnerable:
        for vuln in dep["vulns"]:
            fixed = ", ".join(vuln.get("fix_versions") or []) or "no fixed version yet"
            lines.append(
                f"VULNERABLE: {dep['name']} {dep['version']}: {vuln['id']} (fixed in {fixed})"
            )
    if skipped:
        lines.append(
            f"Not audited ({len(skipped)}): " + ", ".join(sorted(d["name"] for d in skipped))
        )
    if vulnerable:
        lines.append(f"{len(vulnerable)} of {len(audited)} packages have known vulnerabilities.")
        return 1, lines
    lines.append(f"{len(audited)} packages audited: no known vulnerability.")
    return 0, lines


def main() -> int:
    require_network = os.environ.get("AUDIT_REQUIRE_NETWORK", "") not in ("", "0")
    try:
        done = subprocess.run(  # nosec B603 - a fixed command, no shell, no outside input
            COMMAND, capture_output=True, text=True, timeout=900, check=False
        )
        stdout, stderr = done.stdout, done.stderr
    except (OSError, subprocess.TimeoutExpired) as exc:
        stdout, stderr = "", f"{type(exc).__name__}: {exc}"
    status, lines = verdict(stdout, stderr, require_network=require_network)
    print("\n".join(lines))
    return status


if __name__ == "__main__":
    sys.exit(main())
