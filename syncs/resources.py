"""Import and export of the mappings (CSV and XLSX) in the admin, through django-import-export.

Columns have plain headers ("Brightpearl status id"); an import reads them, the field names
of older files, and says which columns a file lacks. An import is all or nothing: every row's
problems (an unknown brand, status, stage or tag, a status given twice) are named in the
preview by row and column with what to fix, all at once, and nothing changes (even if
someone confirms an import whose rows went bad in between). Rows are written through the
mapping services, so every imported change lands in the history with who imported it, and
the follow-ups of a save (the ticket resolved, the orders queued) happen once per brand
after the whole file.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from dataclasses import replace
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from import_export import fields, resources, widgets
from import_export.formats import base_formats

from brands.models import Brand
from syncs.mappings import (
    MappingError,
    attribute_changes_validate,
    audit_mapping_changes,
    change_from_instance,
    mapping_followup,
    mappings_apply,
    status_changes_validate,
    statuses_or_none,
    tags_or_none,
)
from syncs.models import (
    AttributeMapping,
    AttributeSource,
    ChangeVia,
    LifecycleStage,
    OmetriaOrderStatus,
    StatusMapping,
)

IMPORT_FORMATS = [base_formats.CSV, base_formats.XLSX]


class FileColumnsError(Exception):
    """The file's first row does not name the columns an import needs (said in plain words)."""


class BrandWidget(widgets.ForeignKeyWidget):
    """A brand by its short name, with an error that says which and what to do."""

    def __init__(self):
        super().__init__(Brand, field="slug")

    def clean(self, value, row=None, **kwargs):
        if value in (None, ""):
            raise ValueError("Give the brand's short name (its slug, e.g. acme).")
        try:
            return super().clean(str(value).strip(), row, **kwargs)
        except Brand.DoesNotExist:
            raise ValueError(f"No brand has the short name “{value}”.") from None


class StatusIdWidget(widgets.IntegerWidget):
    """A Brightpearl status id: a whole number, with an error that says what was found."""

    def clean(self, value, row=None, **kwargs):
        text = str(value if value is not None else "").strip()
        if not text:
            raise ValueError(
                "Give the id of the Brightpearl status, a number such as 25 (the Mappings "
                "page lists each status with its id)."
            )
        try:
            number = Decimal(text)
        except InvalidOperation:
            number = None
        # A spreadsheet may give 25 as 25.0; anything else is not an id.
        if number is None or not number.is_finite() or number != number.to_integral_value():
            raise ValueError(
                f"“{text}” is not a number. Give the status's id as Brightpearl shows it, "
                "such as 25 (the Mappings page lists each status with its id)."
            )
        if number < 0 or number.adjusted() > 9:
            raise ValueError(f"“{text}” is not the id of a Brightpearl status.")
        return int(number)


def _and(names: list, *, quoted: bool = True) -> str:
    words = [f"“{n}”" if quoted else str(n) for n in names]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _header_key(header) -> str:
    return " ".join(str(header or "").replace("_", " ").split()).lower()


def _column(attribute: str, header: str, widget=None) -> fields.Field:
    return fields.Field(
        attribute=attribute, column_name=header, widget=widget or widgets.CharWidget()
    )


def _choice(value, choices, what: str) -> str:
    """A choice by its code or its label, any case (spreadsheets say “Awaiting payment”)."""
    text = str(value or "").strip()
    for code, label in choices.choices:
        if text.lower() in (code.lower(), label.lower()):
            return code
    raise ValueError(
        f"“{text}” is not {what}. Use one of: " + ", ".join(c for c, _ in choices.choices) + "."
    )


class MappingResource(resources.ModelResource):
    """What both mapping resources share: the importing user, all or nothing, follow-ups."""

    brand = fields.Field(attribute="brand", column_name="Brand", widget=BrandWidget())

    # Headers files made before the plain ones are still read, besides each field's own name in
    # any case, with spaces or underscores ("bp_status_id", "Bp Status Id").
    older_headers: dict[str, tuple[str, ...]] = {}
    # Columns a file may leave out (the others must be there).
    optional_columns: tuple[str, ...] = ()

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.user = None
        self.file_name = ""
        self.entries: dict[int, list] = defaultdict(list)
        self.repeated_in: dict[int, list[int]] = {}

    def headers_read(self, dataset) -> None:
        """Read each header the file gives as the column it names (its plain header, its
        field's name in any case, an older header), so an exported file imports unchanged."""
        known = {}
        for name, field in self.fields.items():
            for header in (name, field.column_name, *self.older_headers.get(name, ())):
                known[_header_key(header)] = field.column_name
        if dataset.headers:
            dataset.headers = [known.get(_header_key(h), h) for h in dataset.headers]

    def columns_problem(self, dataset) -> str | None:
        """What is wrong with the file's columns, for the person who made it, or None."""
        headers = [str(h or "").strip() for h in (dataset.headers or [])]
        columns = [(n, self.fields[n]) for n in self.get_import_order() if n in self.fields]
        expected = [
            field.column_name + (" (may be left out)" if name in self.optional_columns else "")
            for name, field in columns
        ]
        missing = [
            field.column_name
            for name, field in columns
            if name not in self.optional_columns and field.column_name not in headers
        ]
        if not missing:
            return None
        found = ", ".join(f"“{h}”" for h in headers if h) or "none"
        message = (
            f"The file is missing the column{'s' if len(missing) > 1 else ''} {_and(missing)} "
            f"(its columns: {found}). The first row of the file must name the columns: "
            + ", ".join(expected)
            + ". Exporting from this page gives a file with the right columns."
        )
        separator = next((sep for sep in (";", "\t", "|") if any(sep in h for h in headers)), None)
        if separator:
            word = {";": "semicolons", "\t": "tabs", "|": "vertical bars"}[separator]
            message += (
                f" This file seems to be separated by {word}: save it as comma-separated "
                "CSV (or as XLSX) and upload it again."
            )
        else:
            message += " The file must be comma-separated CSV or XLSX."
        return message

    def import_data(
        self,
        dataset,
        dry_run=False,
        raise_errors=False,
        use_transactions=None,
        collect_failed_rows=False,
        rollback_on_validation_errors=False,
        **kwargs,
    ):
        self.headers_read(dataset)
        problem = self.columns_problem(dataset)
        if problem:
            # Said once, plainly, and no row read: every row would fail for the same reason.
            error = FileColumnsError(problem)
            if raise_errors:
                raise error
            result = self.get_result_class()()
            result.diff_headers = self.get_diff_headers()
            result.total_rows = len(dataset)
            result.append_base_error(self.get_error_result_class()(error))
            return result
        # All or nothing, whatever the caller asked: a file with one bad row changes nothing.
        return super().import_data(
            dataset,
            dry_run=dry_run,
            raise_errors=raise_errors,
            use_transactions=True,
            collect_failed_rows=collect_failed_rows,
            rollback_on_validation_errors=True,
            **kwargs,
        )

    def before_import(self, dataset, **kwargs):
        self.user = kwargs.get("user")
        self.file_name = kwargs.get("file_name") or "a file"
        self.entries = defaultdict(list)
        # Rows that map the same thing: each is refused, naming the others (otherwise the
        # last would silently win).
        rows_of = defaultdict(list)
        for number, values in enumerate(dataset, 1):
            key = self.row_key(dict(zip(dataset.headers, values, strict=True)))
            if key is not None:
                rows_of[key].append(number)
        self.repeated_in = {
            n: [o for o in numbers if o != n]
            for numbers in rows_of.values()
            if len(numbers) > 1
            for n in numbers
        }

    # The column that says what a row maps (its problems, a repeat, are named under it).
    key_column = ""

    def row_key(self, row: dict) -> tuple | None:
        """What the row maps, as read from the file's text (None: nothing to compare)."""
        raise NotImplementedError

    def row_description(self, row: dict) -> str:
        """What the row maps, in words, to say it is in another row too."""
        raise NotImplementedError

    def _cell(self, row: dict, name: str) -> str:
        return str(row.get(self.fields[name].column_name) or "").strip()

    def after_import(self, dataset, result, **kwargs):
        super().after_import(dataset, result, **kwargs)
        if kwargs.get("dry_run") or result.has_errors() or result.has_validation_errors():
            return
        for brand_id, entries in self.entries.items():
            brand = Brand.objects.get(pk=brand_id)
            audit_mapping_changes(brand, entries, self.user, ChangeVia.IMPORT)
            mapping_followup(brand=brand, entries=entries, actor=self.user)

    def get_instance(self, instance_loader, row):
        # A row whose brand or id cannot be read is read as a new mapping: import_instance then
        # names that column beside the row's other problems, as a validation error. Left to
        # raise here, it would be a generic error, and the page would list only those rows
        # until they were fixed, hiding every other row's problems.
        try:
            return super().get_instance(instance_loader, row)
        except ValueError:
            return None

    def import_row(self, row, instance_loader, **kwargs):
        row_result = super().import_row(row, instance_loader, **kwargs)
        # Each problem under the column that holds it, as the file names it.
        error = row_result.validation_error
        if error is not None and hasattr(error, "error_dict"):
            columns = {f.attribute: f.column_name for f in self.fields.values()}
            by_column: dict[str, list[str]] = {}
            for name, messages in error.message_dict.items():
                found = by_column.setdefault(columns.get(name, name), [])
                found.extend(m for m in messages if m not in found)
            row_result.validation_error = ValidationError(by_column)
        return row_result

    # Columns given as a choice's label or in another case are read as the choice's code
    # before the row is matched to a saved mapping (so "Contact tag" finds the tag's row).
    # Each column: its choices, and what a value must be, for the error that names it.
    choice_columns: dict[str, tuple[type, str]] = {}

    def before_import_row(self, row, **kwargs):
        for name, (choices, _) in self.choice_columns.items():
            column = self.fields[name].column_name
            # A value that is no choice is left for import_instance to name.
            with contextlib.suppress(ValueError):
                row[column] = _choice(row.get(column), choices, "")

    def import_instance(self, instance, row, **kwargs):
        """Read the row, naming every bad column at once, then check it (`check_instance`)."""
        errors = {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        for name, (choices, what) in self.choice_columns.items():
            try:
                column = self.fields[name].column_name
                setattr(instance, name, _choice(row.get(column), choices, what))
            except ValueError as exc:
                errors[name] = [str(exc)]
        if not errors:
            try:
                self.check_instance(instance)
            except ValidationError as exc:
                errors = exc.update_error_dict(errors)
        others = self.repeated_in.get(kwargs.get("row_number"))
        if others:
            rows = _and(others, quoted=False)
            errors.setdefault(self.key_column, []).append(
                f"{self.row_description(row)} is in row{'s' if len(others) > 1 else ''} {rows} "
                "as well. Keep only the row with the mapping you want."
            )
        if errors:
            raise ValidationError(errors)

    def check_instance(self, instance) -> None:
        """Refuse (ValidationError) a row the mapping's flow could not use."""
        raise NotImplementedError

    def _raise(self, exc: MappingError, field_name: str) -> None:
        raise ValidationError(
            {field_name: [m for messages in exc.errors.values() for m in messages]}
        )

    def do_instance_save(self, instance, is_create):
        # Through the mapping service, inside the import's transaction; the audit and the
        # follow-ups run once per brand after the whole file (after_import).
        change = change_from_instance(instance)
        entries = mappings_apply(
            brand=instance.brand,
            changes=[change],
            actor=self.user,
            via=ChangeVia.IMPORT,
            note=f"Imported from {self.file_name}.",
        )
        self.entries[instance.brand_id].extend(entries)
        instance.pk = change.saved(instance.brand).pk


class StatusMappingResource(MappingResource):
    bp_status_id = _column("bp_status_id", "Brightpearl status id", StatusIdWidget())
    bp_status_name = _column("bp_status_name", "Brightpearl status name")
    ometria_status = _column("ometria_status", "Ometria order status")
    lifecycle_stage = _column("lifecycle_stage", "Lifecycle stage")
    older_headers = {
        "bp_status_name": ("Brightpearl status",),
        "ometria_status": ("Ometria status",),
    }
    # Brightpearl's own name is used whatever the file says.
    optional_columns = ("bp_status_name",)

    class Meta:
        model = StatusMapping
        fields = ("brand", "bp_status_id", "bp_status_name", "ometria_status", "lifecycle_stage")
        import_id_fields = ("brand", "bp_status_id")
        export_order = fields
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True
        name = "Order status mappings"

    choice_columns = {
        "ometria_status": (OmetriaOrderStatus, "an Ometria order status"),
        "lifecycle_stage": (LifecycleStage, "a lifecycle stage"),
    }
    key_column = "bp_status_id"

    def row_key(self, row: dict) -> tuple | None:
        brand, status = self._cell(row, "brand").lower(), self._cell(row, "bp_status_id")
        if not brand or not status:
            return None
        with contextlib.suppress(ValueError):
            status = str(StatusIdWidget().clean(status))  # 25, 25.0 and " 25" are one status
        return brand, status

    def row_description(self, row: dict) -> str:
        return f"Status {self._cell(row, 'bp_status_id')} of {self._cell(row, 'brand')}"

    def check_instance(self, instance) -> None:
        statuses = statuses_or_none(instance.brand)
        if statuses is None:
            raise ValidationError(
                {
                    "bp_status_id": f"Brightpearl could not be reached to check the statuses of "
                    f"{instance.brand}; import again when it answers."
                }
            )
        names = {s["id"]: s["name"] for s in statuses}
        # Brightpearl's own name, whatever the file says: the id is what maps.
        instance.bp_status_name = names.get(instance.bp_status_id, instance.bp_status_name)
        try:
            status_changes_validate(changes=[change_from_instance(instance)], statuses=statuses)
        except MappingError as exc:
            known = "; ".join(f"{i} {n}" for i, n in names.items())
            exc.errors = {
                k: [f"{m} The statuses of {instance.brand}: {known}." for m in v]
                for k, v in exc.errors.items()
            }
            self._raise(exc, "bp_status_id")


class AttributeMappingResource(MappingResource):
    source = _column("source", "Source")
    source_name = _column("source_name", "Brightpearl tag or field")
    ometria_attribute = _column("ometria_attribute", "Ometria attribute")
    value = _column("value", "Value")
    absent_value = _column("absent_value", "Value when absent")
    older_headers = {"source_name": ("Tag or field", "Brightpearl tag", "Brightpearl field")}
    # Left out, a saved mapping keeps its values and a new one sends true / clears.
    optional_columns = ("value", "absent_value")

    class Meta:
        model = AttributeMapping
        fields = ("brand", "source", "source_name", "ometria_attribute", "value", "absent_value")
        import_id_fields = ("brand", "source", "source_name")
        export_order = fields
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True
        name = "Attribute mappings"

    choice_columns = {"source": (AttributeSource, "a source")}
    key_column = "source_name"

    def row_key(self, row: dict) -> tuple | None:
        brand, name = self._cell(row, "brand").lower(), self._cell(row, "source_name")
        source = self._cell(row, "source")
        with contextlib.suppress(ValueError):
            source = _choice(source, AttributeSource, "")
        if not brand or not name:
            return None
        return brand, source.lower(), name

    def row_description(self, row: dict) -> str:
        return f"“{self._cell(row, 'source_name')}” of {self._cell(row, 'brand')}"

    def check_instance(self, instance) -> None:
        for name in ("value", "absent_value", "ometria_attribute", "source_name"):
            setattr(instance, name, str(getattr(instance, name) or "").strip())
        tags = tags_or_none(instance.brand)
        if tags is None and instance.source == AttributeSource.TAG:
            raise ValidationError(
                {
                    "source_name": f"Brightpearl could not be reached to check the tags of "
                    f"{instance.brand}; import again when it answers."
                }
            )
        change = change_from_instance(instance)
        problems = _attribute_problems(change, tags)
        if not problems:
            return
        # Each problem under the column it is about: the one whose value, made harmless, makes
        # the problem go (the checks themselves stay in the mapping service). An unknown tag is
        # the tag's column, not the attribute's.
        harmless = {
            "source_name": _attribute_problems(replace(change, source_name="x"), None),
            "value": _attribute_problems(replace(change, value=""), tags),
            "absent_value": _attribute_problems(replace(change, absent_value=""), tags),
        }
        errors: dict[str, list[str]] = defaultdict(list)
        for problem in problems:
            column = next((c for c, left in harmless.items() if problem not in left), None)
            errors[column or "ometria_attribute"].append(problem)
        raise ValidationError(dict(errors))


def _attribute_problems(change, tags) -> list[str]:
    try:
        attribute_changes_validate(changes=[change], tags=tags)
    except MappingError as exc:
        return [m for messages in exc.errors.values() for m in messages]
    return []
