"""How a vendor declares what a connection to it needs (NetBox's data backends do the same)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    help: str = ""
    required: bool = True
