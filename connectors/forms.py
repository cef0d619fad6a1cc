"""Connection forms. Credentials are write-only: a saved secret is never rendered back."""

from __future__ import annotations

from django import forms

from connectors.models import Connection
from connectors.vendors import REGISTRY


def _cred_field_name(system: str, name: str) -> str:
    return f"credential__{system}__{name}"


class ConnectionFormBase(forms.ModelForm):
    credential_systems: tuple[str, ...] = ()

    class Meta:
        model = Connection
        fields = ["brand", "system", "base_url", "settings"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.has_credentials:
            for f in REGISTRY[self.instance.system].credential_fields:
                name = _cred_field_name(self.instance.system, f.name)
                if name in self.fields:
                    self.fields[name].help_text = (
                        "A value is saved and hidden. Leave blank to keep it; type a new one "
                        "to replace it."
                    )

    def clean(self):
        cleaned = super().clean()
        system = cleaned.get("system")
        if not system:
            return cleaned
        vendor = REGISTRY[system]
        same_system = self.instance.pk and self.instance.system == system
        saved = self.instance.credentials if same_system and self.instance.has_credentials else {}
        for f in vendor.credential_fields:
            name = _cred_field_name(system, f.name)
            if name not in self.fields:
                continue
            if f.required and not cleaned.get(name) and not saved.get(f.name):
                self.add_error(
                    name, f"Enter the {vendor.label} {f.label.lower()}: none is saved yet."
                )
        settings_value = cleaned.get("settings") or {}
        if not isinstance(settings_value, dict):
            self.add_error(
                "settings", 'Settings must be a JSON object, for example {"account": "acme"}.'
            )
        else:
            missing = [
                f.name
                for f in vendor.setting_fields
                if f.required and not settings_value.get(f.name)
            ]
            if missing:
                example = ", ".join(f'"{m}": "…"' for m in missing)
                self.add_error(
                    "settings",
                    f"{vendor.label} needs {', '.join(missing)} in the settings, "
                    f"for example {{{example}}}.",
                )
        return cleaned

    def save(self, commit: bool = True) -> Connection:
        conn: Connection = super().save(commit=False)
        system = conn.system
        previous = self.initial.get("system")
        creds = dict(conn.credentials) if conn.has_credentials and previous == system else {}
        for f in REGISTRY[system].credential_fields:
            value = self.cleaned_data.get(_cred_field_name(system, f.name))
            if value:
                creds[f.name] = value
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
