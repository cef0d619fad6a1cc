"""A record's ticket is keyed by its flow too (contact 1001 and order 1001 are two records):
existing tickets about a numbered record get the new key."""

from django.db import migrations


def key(ticket, with_flow: bool) -> str:
    scope = f"{ticket.flow}/" if with_flow and ticket.flow and ticket.source_id.isdigit() else ""
    return (
        f"{ticket.brand_id}:{ticket.type.code}:{ticket.source_system}:{scope}{ticket.source_id}"
    )


def rekey(with_flow: bool):
    def run(apps, schema_editor):
        Ticket = apps.get_model("exceptions", "Ticket")
        for ticket in Ticket.objects.select_related("type").exclude(flow="").iterator():
            new = key(ticket, with_flow)
            if ticket.source_id.isdigit() and ticket.fingerprint != new:
                ticket.fingerprint = new
                ticket.save(update_fields=["fingerprint"])

    return run


class Migration(migrations.Migration):
    dependencies = [("exceptions", "0007_async_rejection_resolves_later")]
    operations = [migrations.RunPython(rekey(True), rekey(False))]
