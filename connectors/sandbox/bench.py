"""Measure the sandbox: seed time, and the latency of the two hottest calls.

    python -m connectors.sandbox.bench [--orders 100000] [--rounds 50]

Prints the seed time for --orders, then the median and 95th percentile of a Brightpearl GET of
200 orders by id set and of an Ometria push of 100 order records, over real HTTP on one
keep-alive connection, with the rate limits lifted.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from connectors.sandbox import start_sandbox


def _percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"median {statistics.median(ordered) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        sandbox = start_sandbox(Path(folder) / "bench.sqlite3", seed="demo", orders=args.orders)
        print(f"seed demo with {args.orders} orders: {time.perf_counter() - started:.1f} s")
        try:
            sandbox.configure(
                limits={
                    "brightpearl_per_minute": None,
                    "ometria_per_second": None,
                }
            )
            found = sandbox.discovery()
            bp, om = found["brightpearl"], found["ometria"]
            low = found["seed"]["demo"]["brightpearl"]["order_ids"][0]
            with httpx.Client(
                base_url=f"{bp['base_url']}/public-api/{bp['account']}", headers=bp["headers"]
            ) as client:
                timings = []
                for n in range(args.rounds):
                    first = low + (n * 200) % max(args.orders - 200, 1)
                    started = time.perf_counter()
                    answer = client.get(f"/order-service/order/{first}-{first + 199}")
                    timings.append(time.perf_counter() - started)
                    assert len(answer.json()["response"]) == 200
                size = len(answer.content) // 1024
                print(f"Brightpearl GET of 200 orders ({size} KB): {_percentiles(timings)}")
            with httpx.Client(base_url=om["base_url"], headers=om["headers"]) as client:
                timings = []
                for n in range(args.rounds):
                    records = [
                        {
                            "@type": "order",
                            "id": f"bench-{n}-{i}",
                            "timestamp": "2025-02-01T10:00:00+00:00",
                            "grand_total": 42.5,
                            "currency": "GBP",
                            "status": "complete",
                            "customer": {"id": str(200 + i)},
                            "lineitems": [{"sku": "TEE-BLA-1001", "quantity": 1}],
                        }
                        for i in range(100)
                    ]
                    started = time.perf_counter()
                    answer = client.post("/v2/push", json=records)
                    timings.append(time.perf_counter() - started)
                    assert answer.json()["accepted"] == 100
                print(f"Ometria push of 100 records: {_percentiles(timings)}")
        finally:
            sandbox.stop()


if __name__ == "__main__":
    main()
