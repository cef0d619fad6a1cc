"""Measure the sandbox: seed time, and the latency of the calls a console sync leans on.

    python -m connectors.sandbox.bench [--orders 100000] [--rounds 20]

Prints the seed time for --orders, then the median and 95th percentile, over real HTTP on one
keep-alive connection with the rate limits lifted, of:
- a Brightpearl search page of 500 rows (order-search by orderTypeId, order-search by an
  updatedOn window, contact-search, goods-out-search of shipped notes) at the first, middle and
  last firstResult, cold and warm, and the time to walk every page of each;
- a Brightpearl GET of 200 orders by id set, and of the goods-out notes of 200 orders;
- an Ometria push of 100 orders: new ones into an empty store, then, after a fill with every
  order (as a console full sync leaves it), new ones and updates.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from connectors.sandbox import Sandbox, start_sandbox

PAGE = 500
JSON_BODY = {"Content-Type": "application/json"}


def _percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"median {statistics.median(ordered) * 1000:6.1f} ms, p95 {p95 * 1000:6.1f} ms"


def _time(rounds: int, call: Callable[[int], httpx.Response]) -> tuple[list[float], httpx.Response]:
    timings = []
    for n in range(rounds):
        started = time.perf_counter()
        answer = call(n)
        timings.append(time.perf_counter() - started)
        answer.raise_for_status()
    return timings, answer


def _forget(sandbox: Sandbox) -> None:
    # getattr: the same bench also measures commits from before searches were remembered.
    getattr(sandbox.app.store, "forget_searches", lambda: None)()


def _search(
    sandbox: Sandbox, client: httpx.Client, rounds: int, label: str, path: str, params: dict
) -> None:
    """One search at its first, middle and last page.

    "cold": the sandbox has forgotten every search it served (no remembered total or page
    position: what a new query shape or a jump to an unvisited page costs); "warm": the same
    page asked again; "walk": every page in turn, as a client reads a search (mean per page).
    """
    meta = client.get(path, params={**params, "pageSize": 1}).json()["response"]["metaData"]
    total = meta["resultsAvailable"]
    pages = max((total + PAGE - 1) // PAGE, 1)
    print(f"  {label} ({total} rows)")
    for where, page in (("first", 0), ("middle", pages // 2), ("last", pages - 1)):
        query = {**params, "pageSize": PAGE, "firstResult": page * PAGE + 1}

        def cold(n: int, q: dict = query) -> httpx.Response:
            _forget(sandbox)
            return client.get(path, params=q)

        cold_timings, _ = _time(max(rounds // 3, 3), cold)
        timings, answer = _time(rounds, lambda n, q=query: client.get(path, params=q))
        returned = answer.json()["response"]["metaData"]["resultsReturned"]
        print(
            f"    {where:6} firstResult={query['firstResult']:<6} {returned:3} rows: "
            f"cold {_percentiles(cold_timings)} | warm {_percentiles(timings)}"
        )
    _forget(sandbox)
    started = time.perf_counter()
    first = 1
    while True:
        answer = client.get(path, params={**params, "pageSize": PAGE, "firstResult": first})
        meta = answer.json()["response"]["metaData"]
        if not meta["morePagesAvailable"]:
            break
        first = meta["lastResult"] + 1
    spent = time.perf_counter() - started
    print(f"    walk of all {pages} pages: {spent:.2f} s, {spent / pages * 1000:.1f} ms a page")


def _order_record(order_id: int, status: str = "complete") -> dict:
    """An Ometria order as the console sends one: its own customer, email and line items."""
    customer = 201 + (order_id * 7919) % 33_333
    return {
        "@type": "order",
        "id": str(order_id),
        "timestamp": "2025-02-01T10:00:00.000+00:00",
        "grand_total": 77.96,
        "subtotal": 64.96,
        "tax": 13.0,
        "currency": "GBP",
        "status": status,
        "customer": {
            "id": str(customer),
            "email": f"customer.{customer}@example.com",
            "firstname": "Alex",
            "lastname": "Morgan",
        },
        "lineitems": [
            {"product_id": "1007", "sku": "SOCK-BLA-1007", "quantity": 1, "unit_price": 11.99},
            {"product_id": "1022", "sku": "SHIR-OLI-1022", "quantity": 2, "unit_price": 26.49},
        ],
        "properties": {"brightpearl_status": "Completed", "brightpearl_status_id": 26},
    }


def _ometria(client: httpx.Client, rounds: int, orders: int) -> None:
    """Pushes of 100 orders: into an empty store, filling it with every order as a full sync
    does, then new records and updates into the full store."""

    def pushes(count: int, first: int, status: str = "complete") -> list[float]:
        """Times of `count` pushes of 100 orders from id `first` on (the bodies are made
        and encoded before each clock starts)."""
        timings = []
        for n in range(count):
            records = [_order_record(first + n * 100 + i, status) for i in range(100)]
            body = json.dumps(records).encode()
            started = time.perf_counter()
            answer = client.post("/v2/push", content=body, headers=JSON_BODY)
            timings.append(time.perf_counter() - started)
            assert answer.json()["accepted"] == 100, answer.text
        return timings

    new = 10_000_001  # ids no order has
    timings = pushes(rounds, new)
    print(f"Ometria push of 100 new orders (store empty): {_percentiles(timings)}")
    fill = max(orders // 100, 1)
    timings = pushes(fill, 10_001)
    print(
        f"Ometria fill with {fill * 100} orders in pushes of 100: {sum(timings):.1f} s, "
        f"{_percentiles(timings)}"
    )
    timings = pushes(rounds, new + rounds * 100)
    print(f"Ometria push of 100 new orders (store full): {_percentiles(timings)}")
    timings = pushes(rounds, 10_001, "cancelled")
    print(f"Ometria push of 100 updated orders (store full): {_percentiles(timings)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    rounds = args.rounds
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        sandbox = start_sandbox(Path(folder) / "bench.sqlite3", seed="demo", orders=args.orders)
        print(f"seed demo with {args.orders} orders: {time.perf_counter() - started:.1f} s")
        try:
            sandbox.configure(limits={"brightpearl_per_minute": None, "ometria_per_second": None})
            found = sandbox.discovery()
            bp, om = found["brightpearl"], found["ometria"]
            low = found["seed"]["demo"]["brightpearl"]["order_ids"][0]
            span = max(args.orders - 200, 1)
            with httpx.Client(
                base_url=f"{bp['base_url']}/public-api/{bp['account']}", headers=bp["headers"]
            ) as client:
                print("Brightpearl search pages of 500:")
                _search(sandbox, client, rounds, "order-search", "/order-service/order-search", {})
                _search(
                    sandbox,
                    client,
                    rounds,
                    "order-search orderTypeId=1",
                    "/order-service/order-search",
                    {"orderTypeId": 1},
                )
                _search(
                    sandbox,
                    client,
                    rounds,
                    "order-search updatedOn=2025-03-01/,orderTypeId=1",
                    "/order-service/order-search",
                    {"updatedOn": "2025-03-01T00:00:00Z/", "orderTypeId": 1},
                )
                _search(
                    sandbox, client, rounds, "contact-search", "/contact-service/contact-search", {}
                )
                _search(
                    sandbox,
                    client,
                    rounds,
                    "goods-out-search shipped=true",
                    "/warehouse-service/goods-note/goods-out-search",
                    {"shipped": "true"},
                )

                def orders(n: int) -> httpx.Response:
                    first = low + (n * 200) % span
                    return client.get(f"/order-service/order/{first}-{first + 199}")

                timings, answer = _time(rounds, orders)
                assert len(answer.json()["response"]) == 200
                size = len(answer.content) // 1024
                print(f"Brightpearl GET of 200 orders ({size} KB): {_percentiles(timings)}")

                def notes(n: int) -> httpx.Response:
                    first = low + (n * 200) % span
                    return client.get(
                        f"/warehouse-service/order/{first}-{first + 199}/goods-note/goods-out"
                    )

                timings, answer = _time(rounds, notes)
                count = len(answer.json()["response"])
                print(
                    f"Brightpearl goods-out notes of 200 orders ({count} notes): "
                    f"{_percentiles(timings)}"
                )
            with httpx.Client(base_url=om["base_url"], headers=om["headers"]) as client:
                _ometria(client, rounds, args.orders)
        finally:
            sandbox.stop()


if __name__ == "__main__":
    main()
