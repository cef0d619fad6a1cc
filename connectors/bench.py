"""Connector throughput against the vendor sandbox: `python -m connectors.bench`.

For each vendor it prints one JSON line: vendor, records, requests, seconds, records_per_s
(and the latency the sandbox added); Mailchimp has two, `what` says which: creating members,
then updating the same members (the steady-state path, by batch operations). The vendors' real
limits apply (Brightpearl 200 a minute, Ometria 8 pushes a second…), so the figures say what one
brand can move.
It uses its own temporary database and sandbox; nothing of yours is touched.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path


def _setup(workdir: Path) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "console.settings"
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=int, nargs="*", default=[0, 50], help="ms added per call")
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--records", type=int, default=10_000)
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="connectors-bench-"))
    _setup(workdir)

    from brands.models import Brand
    from connectors.registry import connector_for
    from connectors.sandbox import start_sandbox
    from connectors.sandbox.connect import connect_to_sandbox

    sandbox = start_sandbox(workdir / "sandbox.sqlite3", seed="demo", orders=args.orders)
    facts = sandbox.seed_facts()["demo"]["brightpearl"]
    variants = sandbox.state("bigcommerce", "variants", limit=10_000)["items"]
    n = args.records

    def brightpearl(c):
        first = facts["order_ids"][0]
        return sum(1 for _ in c.orders(range(first, first + args.orders)))

    def ometria(c):
        return len(
            c.push(
                {"@type": "contact", "id": f"b{i}", "email": f"b{i}@example.com"} for i in range(n)
            ).ok
        )

    mailchimp_members = [
        {"email_address": f"bench{i}@example.com", "status_if_new": "subscribed"}
        for i in range(n // 2)
    ]

    def mailchimp(c):
        return len(c.upsert_members(mailchimp_members).ok)

    def mailchimp_update(c):
        # The same members again: all exist now, so this is the steady-state path (the
        # create call reports them existing, then batch operations update them).
        changed = [{**m, "merge_fields": {"FNAME": "Bench"}} for m in mailchimp_members]
        return len(c.upsert_members(changed).ok)

    def bigcommerce(c):
        items = [
            {
                "location_id": 1 + i // len(variants),
                "sku": variants[i % len(variants)]["sku"],
                "quantity": i % 50,
            }
            for i in range(n)
        ]
        return len(c.set_stock_levels(items).ok)

    def salesforce(c):
        records = [{"BP_Contact_Id__c": str(i), "Name": f"Bench {i}"} for i in range(n // 2)]
        return len(c.upsert("Account", "BP_Contact_Id__c", records).ok)

    # (vendor, what is measured, job); the update line must follow the create line.
    jobs = [
        ("brightpearl", "", brightpearl),
        ("ometria", "", ometria),
        ("mailchimp", "create members", mailchimp),
        ("mailchimp", "update existing members", mailchimp_update),
        ("bigcommerce", "", bigcommerce),
        ("salesforce", "", salesforce),
    ]
    try:
        for run, latency in enumerate(args.latency):
            if run:
                # Fresh data and fresh rate windows: each setting starts from the same place.
                sandbox.reset("demo", args.orders)
            brand = Brand.objects.create(name=f"Bench {latency} ms", slug=f"bench-{latency}")
            conns = {c.system: c for c in connect_to_sandbox(brand, sandbox.discovery())}
            for vendor, what, job in jobs:
                sandbox.clear_faults()
                if latency:
                    sandbox.set_faults(vendor, latency_ms=latency)
                sandbox.reset_stats()
                started = time.perf_counter()
                with connector_for(conns[vendor]) as client:
                    records = job(client)
                seconds = time.perf_counter() - started
                requests = sandbox.stats()[vendor]["requests"]
                print(
                    json.dumps(
                        {
                            "vendor": vendor,
                            **({"what": what} if what else {}),
                            "records": records,
                            "requests": requests,
                            "seconds": round(seconds, 2),
                            "records_per_s": round(records / seconds, 1),
                            "latency_ms": latency,
                            "throttle_waits": client.stats.throttle_waits,
                        }
                    ),
                    flush=True,
                )
    finally:
        sandbox.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
