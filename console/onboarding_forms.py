"""Onboarding, step 2: the form for one system's credentials and settings."""

from __future__ import annotations

from datetime import date

from django import forms

from connectors.forms import connection_form_class, in_sentence
from connectors.models import Connection
from connectors.registry import REGISTRY as VENDORS
from console.models import Onboarding


def _setting_name(name: str) -> str:
    return f"setting__{name}"


def _is_day(value: str) -> bool:
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return len(value) == 10


# Credentials that identify rather than unlock (an app's reference, an OAuth client id): the
# person may see what they typed, and a refused form keeps them. Every other credential is a
# secret: never rendered back into a page, so after a refusal it must be typed again.
NOT_SECRET_CREDENTIALS = {
    ("brightpearl", "app_ref"),
    ("brightpearl", "dev_ref"),
    ("salesforce", "client_id"),
    ("salesforce", "username"),
}
RETYPE_HELP = "Not kept after the error: type it again. Secrets are never shown back on a page."


class OnboardingConnectionFormMixin:
    """One system's connection for one brand: the console's connection form (write-only
    credentials, per-vendor checks), with the vendor's settings as plain fields."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        vendor = VENDORS[self.instance.system]
        self.vendor = vendor
        # The base form keeps saved credentials only when the system did not change.
        self.initial["system"] = self.instance.system
        saved = dict(self.instance.settings or {})
        for f in vendor.setting_fields:
            if f.choices:
                # The kind of sign-in: a connection saved before the choice keeps its old kind;
                # a new one starts on the first (what the vendor recommends today).
                default = vendor.default_auth_kind if self.instance.pk else f.choices[0][0]
                self.fields[_setting_name(f.name)] = forms.ChoiceField(
                    label=f.label,
                    required=False,
                    help_text=f.help,
                    choices=f.choices,
                    widget=forms.RadioSelect,
                    initial=saved.pop(f.name, "") or default,
                )
                continue
            self.fields[_setting_name(f.name)] = forms.CharField(
                label=f.label,
                required=False,
                help_text=f.help,
                initial=saved.pop(f.name, ""),
            )
        # The address, the vendor's settings, the credentials, and the rare extras last.
        self.order_fields(
            ["base_url", *(_setting_name(f.name) for f in vendor.setting_fields)]
            + [n for n in self.fields if n.startswith("credential__")]
            + ["settings"]
        )
        self.fields["base_url"].initial = self.instance.base_url or vendor.default_base_url
        self.fields["base_url"].help_text = (
            vendor.base_url_help or f"{vendor.label}'s API address, e.g. {vendor.default_base_url}"
        )
        self.fields["settings"].required = False
        self.fields["settings"].label = "More settings (optional)"
        self.fields[
            "settings"
        ].help_text = 'Rarely needed: a JSON object such as {"rate_limit": 100}.'
        self.initial["settings"] = saved
        self.fields["settings"].widget.attrs["rows"] = 2
        self._secrets = []
        for f in vendor.credential_fields:
            name = f"credential__{vendor.system}__{f.name}"
            if name not in self.fields:
                continue
            if (vendor.system, f.name) in NOT_SECRET_CREDENTIALS:
                # Shown as typed; a saved one keeps its "saved — leave empty" placeholder.
                attrs = {**self.fields[name].widget.attrs, "autocomplete": "off"}
                self.fields[name].widget = forms.TextInput(attrs=attrs)
            else:
                self._secrets.append(name)
        # The labels of the secrets typed into this form that a refusal did not keep.
        self.retype: list[str] = []

    def full_clean(self):
        super().full_clean()
        if not self._errors:
            return
        for name in self._secrets:
            if (self.data.get(self.add_prefix(name)) or "").strip():
                # The bound field, already made while validating, keeps its own copy.
                self.fields[name].help_text = self[name].help_text = RETYPE_HELP
                self.retype.append(in_sentence(str(self.fields[name].label)))

    def clean(self):
        extra = self.cleaned_data.get("settings")
        settings = dict(extra) if isinstance(extra, dict) else (extra or {})
        if isinstance(settings, dict):
            for f in self.vendor.setting_fields:
                value = (self.cleaned_data.get(_setting_name(f.name)) or "").strip()
                if value and f.date and not _is_day(value):
                    self.add_error(
                        _setting_name(f.name),
                        f"Enter the {in_sentence(f.label)} as year-month-day, such as 2026-01-31.",
                    )
                    continue
                if value:
                    settings[f.name] = value
                else:
                    settings.pop(f.name, None)
            self.cleaned_data["settings"] = settings
        self.cleaned_data["system"] = self.instance.system
        cleaned = super().clean()
        # The base form names the settings object; name the field the person fills in.
        missing = [
            f
            for f in self.vendor.setting_fields
            if f.required and not (self.cleaned_data.get(_setting_name(f.name)) or "").strip()
        ]
        if missing and "settings" in self._errors:
            del self._errors["settings"]
            for f in missing:
                self.add_error(
                    _setting_name(f.name),
                    f"Enter the {self.vendor.label} {in_sentence(f.label)}."
                    + (f" {f.help}" if f.help else ""),
                )
        return cleaned


def connection_form(
    onboarding: Onboarding, system: str, data=None, *, prefix: str | None = None
) -> forms.ModelForm:
    """The form for one system of the brand (bound to `data` when given)."""
    base = connection_form_class((system,))
    form_class = type(
        f"{system.title()}OnboardingForm",
        (OnboardingConnectionFormMixin, base),
        {"Meta": type("Meta", (base.Meta,), {"fields": ["base_url", "settings"]})},
    )
    instance = Connection.objects.filter(brand=onboarding.brand, system=system).first()
    if instance is None:
        instance = Connection(brand=onboarding.brand, system=system)
    return form_class(data, instance=instance, prefix=prefix or system)


def form_has_input(form: forms.Form) -> bool:
    """Did the person type anything into this system's form (beyond the default address)?"""
    if form.instance.pk:
        return True
    for name, field_ in form.fields.items():
        value = (form.data.get(form.add_prefix(name)) or "").strip()
        if not value:
            continue
        if name == "base_url" and value.rstrip("/") == str(field_.initial or "").rstrip("/"):
            continue
        if name == "settings" and value in ("{}", ""):
            continue
        return True
    return False
