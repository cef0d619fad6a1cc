"""Ometria custom events: a type must be set up in the account before Ometria acts on it.

https://support.ometria.com/hc/en-gb/articles/360011171077-Custom-events: "If you're
interested in implementing a custom event for your automation campaigns, speak with your
customer success manager … We need … the event type you would like to use … Ometria will:
Create the custom event and associated fields in the platform; Enable the custom event in the
automation campaigns builder." Event type names should stay under 32 characters ("event types
with longer names will be truncated"). Ometria's API has no call that lists an account's custom
event types (none in docs.ometria.com), so the console cannot check it: onboarding says how to
set it up and asks whoever onboards to confirm it was.
"""

from __future__ import annotations

CUSTOM_EVENTS_PAGE = "https://support.ometria.com/hc/en-gb/articles/360011171077-Custom-events"
# Ometria truncates longer event type names (the page above).
LONGEST_TYPE = 31


def custom_event_setup(event_type: str) -> str:
    """What to ask Ometria for before a flow sends `event_type`, in plain English."""
    return (
        f"This flow sends Ometria a custom event called “{event_type}”. Ometria uses a custom "
        "event only once it has been set up in the brand's Ometria account, and no API can "
        "check that it has. Ask the brand's Ometria customer success manager to set up the "
        f"custom event “{event_type}” and enable it in the automation campaign builder "
        f"(Ometria explains how: {CUSTOM_EVENTS_PAGE}), then tick the box to say it is done."
    )
