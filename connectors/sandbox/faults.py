"""Faults on demand, per vendor: errors, latency, throttle storms, outages, lost and broken answers.

Randomness comes from one seeded RNG per vendor, and every request draws the same four numbers
whatever the plan (reads too, even for the write-only fault), so the same plan and the same
sequence of requests give the same faults.
Durations (storms, outages) and latency are real time: a test sets them directly, so the time
scale does not apply to them.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any

OUTAGE_MODES = ("gateway", "reset")


@dataclass
class FaultPlan:
    error_rate: float = 0.0  # share of requests answered with the vendor's own 500
    lost_response_rate: float = 0.0  # share applied, then the connection closes unanswered
    # The same, for writes only (POST/PUT/PATCH/DELETE that the vendor applied, i.e. answered
    # below 400): a create whose answer never arrives, while reads keep working, so a client
    # can look the record up by its natural key before creating it again.
    lost_write_rate: float = 0.0
    malformed_rate: float = 0.0  # share applied, then answered 200 with truncated JSON
    latency_ms: int = 0  # added before every answer
    throttle_storm_seconds: float = 0.0  # every request gets the vendor's throttle answer
    outage_seconds: float = 0.0  # the vendor is down
    # "gateway": a 503 HTML page from the vendor's edge (what an origin outage behind a CDN
    # looks like); "reset": the connection is closed without an answer.
    outage_mode: str = "gateway"
    seed: int = 0
    # Set from the *_seconds fields when the plan is applied (monotonic clock).
    storm_until: float = 0.0
    outage_until: float = 0.0
    rng: random.Random = field(default_factory=random.Random, repr=False)

    def public(self) -> dict[str, Any]:
        now = time.monotonic()
        data = {k: v for k, v in asdict(self).items() if k not in ("rng",)}
        data["storm_seconds_left"] = round(max(self.storm_until - now, 0.0), 3)
        data["outage_seconds_left"] = round(max(self.outage_until - now, 0.0), 3)
        del data["storm_until"], data["outage_until"]
        return data


@dataclass
class Decision:
    latency_ms: int = 0
    outage: str | None = None  # an OUTAGE_MODES value while an outage lasts
    storm: bool = False
    error: bool = False
    lost: bool = False
    lost_write: bool = False  # applies only if the request is a write the vendor applied
    malformed: bool = False


FIELDS = (
    "error_rate",
    "lost_response_rate",
    "lost_write_rate",
    "malformed_rate",
    "latency_ms",
    "throttle_storm_seconds",
    "outage_seconds",
    "outage_mode",
    "seed",
)


class Faults:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._plans: dict[str, FaultPlan] = {}

    def set(self, vendor: str, values: dict[str, Any]) -> FaultPlan:
        unknown = set(values) - set(FIELDS) - {"vendor"}
        if unknown:
            raise ValueError(f"unknown fault settings: {', '.join(sorted(unknown))}")
        if values.get("outage_mode", "gateway") not in OUTAGE_MODES:
            raise ValueError(f"outage_mode must be one of {', '.join(OUTAGE_MODES)}")
        with self._lock:
            plan = self._plans.get(vendor) or FaultPlan()
            for key in FIELDS:
                if key in values and values[key] is not None:
                    setattr(plan, key, type(getattr(FaultPlan(), key))(values[key]))
            now = time.monotonic()
            if "throttle_storm_seconds" in values:
                plan.storm_until = now + plan.throttle_storm_seconds
            if "outage_seconds" in values:
                plan.outage_until = now + plan.outage_seconds
            # A new plan restarts its random sequence: the same plan replays the same faults.
            plan.rng = random.Random(plan.seed)
            self._plans[vendor] = plan
            return plan

    def clear(self, vendor: str | None = None) -> None:
        with self._lock:
            if vendor is None:
                self._plans.clear()
            else:
                self._plans.pop(vendor, None)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {vendor: plan.public() for vendor, plan in self._plans.items()}

    def decide(self, vendor: str) -> Decision:
        with self._lock:
            plan = self._plans.get(vendor)
            if plan is None:
                return Decision()
            now = time.monotonic()
            rolls = (plan.rng.random(), plan.rng.random(), plan.rng.random(), plan.rng.random())
            return Decision(
                latency_ms=plan.latency_ms,
                outage=plan.outage_mode if now < plan.outage_until else None,
                storm=now < plan.storm_until,
                error=rolls[0] < plan.error_rate,
                lost=rolls[1] < plan.lost_response_rate,
                malformed=rolls[2] < plan.malformed_rate,
                lost_write=rolls[3] < plan.lost_write_rate,
            )


def parse_cli_fault(text: str) -> tuple[str, dict[str, Any]]:
    """'brightpearl:error_rate=0.2' -> ('brightpearl', {'error_rate': '0.2'})."""
    vendor, _, rest = text.partition(":")
    if not rest or "=" not in rest:
        raise ValueError(f"expected VENDOR:key=value, got {text!r}")
    values: dict[str, Any] = {}
    for pair in rest.split(","):
        key, _, value = pair.partition("=")
        values[key.strip()] = value.strip()
    return vendor.strip(), values
