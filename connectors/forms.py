"""Connection forms. Credentials are write-only: a saved secret is never rendered back.

Saved credentials belong to the address they were saved for. When an existing connection's
base URL moves to another scheme, host or port, the saved secrets are not carried over:
otherwise anyone allowed to edit a connection could point it at a server of their own,
press Test, and receive the brand's token. Every required credential must be typed again.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django import forms

from connectors.models import Connection
from connectors.registry import REGISTRY

ADDRESS_MOVED = (
    "The address changed: enter the credentials again; saved ones are never sent to a new address."
)
SAVED_PLACEHOLDER = "saved — leave empty to keep"
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _cred_field_name(system: str, name: str) -> str:
    return f"credential__{system}__{name}"


def url_origin(url: str) -> tuple[str, str, int | None] | None:
    """(scheme, host, port) of an address, the part that decides who receives a request.
    None when it cannot be read (then it never counts as the same address)."""
    try:
        parts = urlsplit(str(url or "").strip())
        scheme = parts.scheme.lower()
        port = parts.port or _DEFAULT_PORTS.get(scheme)
    except ValueError:
        return None
    if not parts.hostname:
        return None
    return scheme, parts.hostname.lower().rstrip("."), port


def same_origin(before: str, after: str) -> bool:
    origin = url_origin(before)
    return origin is not None and origin == url_origin(after)


def in_sentence(label: str) -> str:
    """A field's label inside a sentence: "Account token" → "account token", but an
    abbreviation keeps its capitals ("API key" stays "API key", never "api key")."""
    return " ".join(w if w.isupper() and len(w) > 1 else w.lower() for w in label.split(" "))


class SettingsField(forms.JSONField):
    """Nothing typed shows as an empty box, not as the word null."""

    def prepare_value(self, value):
        return "" if value is None else super().prepare_value(value)


class ConnectionFormBase(forms.ModelForm):
    credential_systems: tuple[str, ...] = ()

    class Meta:
        model = Connection
        fields = ["brand", "system", "base_url", "settings"]
        field_classes = {"settings": SettingsField}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Where the saved credentials were meant to go, read before the form touches the
        # instance (a ModelForm writes the new values onto it while validating).
        self.saved_system = self.instance.system if self.instance.pk else ""
        self.saved_base_url = self.instance.base_url if self.instance.pk else ""
        self.address_moved = False
        if self.instance.pk and self.instance.has_credentials:
            saved = self.instance.credentials
            for f in REGISTRY[self.instance.system].credential_fields:
                name = _cred_field_name(self.instance.system, f.name)
                if name in self.fields and saved.get(f.name):
                    # An empty box would read as "nothing saved": say what the box holds.
                    self.fields[name].widget.attrs["placeholder"] = SAVED_PLACEHOLDER
                    self.fields[name].help_text = (
                        "A value is saved and hidden. Leave blank to keep it; type a new one "
                        "to replace it. If the base URL changes, type it again."
                    )

    def _saved_credentials(self, system: str) -> dict:
        """The saved secrets this form may keep: only for the same system at the same
        address. Sets `address_moved` when the address is what stops them."""
        if not (self.instance.pk and self.instance.has_credentials):
            return {}
        if self.saved_system != system:
            return {}
        new_url = self.cleaned_data.get("base_url")
        if new_url and not same_origin(self.saved_base_url, new_url):
            self.address_moved = True
            return {}
        return dict(self.instance.credentials)

    def clean(self):
        cleaned = super().clean()
        system = cleaned.get("system")
        if not system:
            return cleaned
        vendor = REGISTRY[system]
        saved = self._saved_credentials(system)
        settings_value = cleaned.get("settings") or {}
        # Only the credentials the chosen kind of sign-in needs are asked for.
        kind = vendor.auth_kind(settings_value if isinstance(settings_value, dict) else {})
        if vendor.auth_setting and kind not in vendor.auth_kinds():
            self.add_error(
                "settings",
                f"“{kind}” is not a kind of {vendor.label} credential: use one of "
                f"{', '.join(vendor.auth_kinds())}.",
            )
        base_url = cleaned.get("base_url")
        problem = base_url and vendor.base_url_problem(
            base_url, settings_value if isinstance(settings_value, dict) else {}
        )
        if problem:
            self.add_error("base_url", problem)
        retype: list[str] = []
        for f in vendor.credentials_needed(
            settings_value if isinstance(settings_value, dict) else {}
        ):
            name = _cred_field_name(system, f.name)
            if name not in self.fields:
                continue
            if f.required and not cleaned.get(name) and not saved.get(f.name):
                if self.address_moved:
                    retype.append(name)
                    self.add_error(
                        name,
                        f"Enter the {vendor.label} {in_sentence(f.label)} again "
                        "for the new address.",
                    )
                else:
                    self.add_error(
                        name,
                        f"Enter the {vendor.label} {in_sentence(f.label)}: none is saved yet.",
                    )
        if retype:
            self.add_error("base_url", ADDRESS_MOVED)
        if not isinstance(settings_value, dict):
            self.add_error(
                "settings", 'Settings must be a JSON object, for example {"account": "acme"}.'
            )
        else:
            missing = [
                f.name
                for f in vendor.setting_fields
                if f.required and f.applies(kind) and not settings_value.get(f.name)
            ]
            if missing:
                example = ", ".join(f'"{m}": "…"' for m in missing)
                self.add_error(
                    "settings",
                    f"{vendor.label} needs {', '.join(missing)} in the settings, "
                    f"for example {{{example}}}.",
                )
        return cleaned

    def replaced_credentials(self) -> list[str]:
        """The labels of the credentials typed into this form (never their values)."""
        system = self.cleaned_data.get("system") or self.instance.system
        return [
            f.label
            for f in REGISTRY[system].credential_fields
            if self.cleaned_data.get(_cred_field_name(system, f.name))
        ]

    def audit_detail(self) -> dict:
        """What this save changes, as data for the audit trail: which connection, which
        fields by label, which credentials were replaced. Never a value."""
        changed = [n for n in self.changed_data if not n.startswith("credential__")]
        replaced = self.replaced_credentials()
        return {
            "connection": self.instance.pk,
            "system": self.cleaned_data.get("system") or self.instance.system,
            "fields_changed": [
                str(self.fields[n].label or n) if n in self.fields else n for n in changed
            ],
            "credentials_replaced": replaced,
            "credentials_dropped": bool(self.address_moved and not replaced),
        }

    def change_summary(self) -> str:
        """What this save changes, in words for the audit trail: the fields by name, the
        address from → to, and "credentials replaced" with which ones, never a value."""
        parts = []
        changed = [n for n in self.changed_data if not n.startswith("credential__")]
        if "base_url" in changed and self.saved_base_url:
            parts.append(f"base URL {self.saved_base_url} → {self.cleaned_data['base_url']}")
            changed.remove("base_url")
        parts += [
            in_sentence(str(self.fields[n].label or n)) if n in self.fields else n for n in changed
        ]
        replaced = self.replaced_credentials()
        if replaced:
            parts.append(f"credentials replaced ({', '.join(replaced)})")
        elif self.address_moved:
            parts.append("saved credentials dropped")
        return "; ".join(parts) or "nothing changed"

    def save(self, commit: bool = True) -> Connection:
        conn: Connection = super().save(commit=False)
        system = conn.system
        previous = self.initial.get("system")
        keep = conn.has_credentials and previous == system and not self.address_moved
        creds = dict(conn.credentials) if keep else {}
        vendor = REGISTRY[system]
        typed = {
            f.name: value
            for f in vendor.credential_fields
            if (value := self.cleaned_data.get(_cred_field_name(system, f.name)))
            and value != creds.get(f.name)
        }
        needed = {f.name for f in vendor.credentials_needed(conn.settings or {})}
        declared = {f.name for f in vendor.credential_fields}
        # Keep what the chosen kind of sign-in needs. What the console saved itself (an OAuth
        # token it renewed) stays only while no credential is replaced; a secret of another
        # kind is not kept at all.
        creds = {k: v for k, v in creds.items() if k in needed or (k not in declared and not typed)}
        creds.update({k: v for k, v in typed.items() if k in needed})
        conn.credentials = creds
        if commit:
            conn.save()
        return conn


def connection_form_class(systems: tuple[str, ...] | None = None) -> type[ConnectionFormBase]:
    """A form with write-only credential fields for these systems (all of them by default)."""
    systems = systems or tuple(REGISTRY)
    attrs: dict[str, forms.Field] = {}
    for system in systems:
        vendor = REGISTRY[system]
        for f in vendor.credential_fields:
            attrs[_cred_field_name(system, f.name)] = forms.CharField(
                label=f"{vendor.label}: {f.label}" if len(systems) > 1 else f.label,
                required=False,
                strip=True,
                widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
                help_text=f.help,
            )
    attrs["credential_systems"] = systems
    return type("ConnectionForm", (ConnectionFormBase,), attrs)
