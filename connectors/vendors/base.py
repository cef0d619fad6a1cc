"""The small interface every vendor connector shares."""

from __future__ import annotations

from typing import ClassVar

from connectors.vendors.fields import Field


class Connector:
    """One vendor. Subclasses declare what a connection needs; the HTTP work comes later."""

    system: ClassVar[str]
    label: ClassVar[str]
    default_base_url: ClassVar[str]
    credential_fields: ClassVar[tuple[Field, ...]] = ()
    setting_fields: ClassVar[tuple[Field, ...]] = ()
