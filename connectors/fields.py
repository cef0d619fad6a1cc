"""How a vendor declares what a connection to it needs (NetBox's data backends do the same)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    help: str = ""
    required: bool = True
    # A setting picked from a list: (value, what a person reads).
    choices: tuple[tuple[str, str], ...] = ()
    # Asked for only with these kinds of sign-in (the vendor's `auth_setting`); empty: always.
    kinds: tuple[str, ...] = ()
    # A day, typed as YYYY-MM-DD (a go-live date): checked when the form is saved.
    date: bool = False

    def applies(self, kind: str) -> bool:
        return not self.kinds or kind in self.kinds
