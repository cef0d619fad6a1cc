"""What the tickets need to know of the flows, asked of whoever registers it.

`exceptions` sits below `syncs`: it never imports the flow registry. `syncs` registers a
`Flows` at start-up (SyncsConfig.ready), which names the flows and queues a retry's run.
Without one (a test of the tickets alone), flows are named by their codes and nothing
can be retried.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from exceptions.models import Ticket


class Flows(Protocol):
    def label(self, code: str) -> str:
        """The flow's name in words."""

    def choices(self) -> list[tuple[str, str]]:
        """(code, name) of every flow, for filters."""

    def target(self, code: str) -> str:
        """The system the flow writes to ("ometria"), or empty for an unknown flow."""

    def retry_blocker(self, ticket: Ticket) -> str:
        """Why the flow cannot retry this ticket now (unknown, already retrying), or empty."""

    def retry(self, *, ticket: Ticket, scope: list[str]) -> Any:
        """Queue a run of the ticket's flow for these records (all, when empty): the run."""


class _NoFlows:
    def label(self, code: str) -> str:
        return code

    def choices(self) -> list[tuple[str, str]]:
        return []

    def target(self, code: str) -> str:
        return ""

    def retry_blocker(self, ticket: Ticket) -> str:
        return "No flow can run in this console, so nothing can sync this record again."

    def retry(self, *, ticket: Ticket, scope: list[str]) -> Any:
        raise RuntimeError("no flows are registered")


_flows: Flows = _NoFlows()


def flows_register(flows: Flows) -> None:
    global _flows
    _flows = flows


def flows() -> Flows:
    return _flows


def flow_label(code: str) -> str:
    return _flows.label(code) if code else ""


def flow_choices() -> list[tuple[str, str]]:
    return _flows.choices()


def flow_target(code: str) -> str:
    """Which system a flow writes to, so a ticket can say who refused its record."""
    return _flows.target(code) if code else ""
