"""What the seed's builders share: one brand's RNG, accounts, records and facts."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from connectors.sandbox.core import Account
from connectors.sandbox.seed.reference import RNG_SEED
from connectors.sandbox.state import Rec


class SeedBase:
    """Builds one brand's records; keeps the facts other engineers write tests against."""

    def __init__(
        self,
        brand: str,
        orders: int,
        accounts: list[Account],
        sink: Callable[[list[Rec]], None] | None = None,
    ) -> None:
        self.brand = brand
        self.sink = sink
        self.n_orders = orders
        self.rng = random.Random(f"{RNG_SEED}:{brand}")
        self.accounts = {a.vendor: a for a in accounts}
        self.recs: list[Rec] = []
        self.facts: dict[str, Any] = {}
        self.demo = brand == "demo"

    def emit(self, rec: Rec) -> None:
        """Collect a record; hand full batches to the sink so the writer can start early."""
        self.recs.append(rec)
        if self.sink is not None and len(self.recs) >= 5000:
            self.flush()

    def flush(self) -> None:
        if self.sink is not None and self.recs:
            self.sink(self.recs)
            self.recs = []
