"""The ticket for a Salesforce order whose Account is not a Brightpearl customer yet: the order
waits (never posted to a guessed customer) and goes once the account is linked."""

from django.db import migrations

TYPES = [
    {
        "code": "salesforce_account_unlinked",
        "title": "A Salesforce order's account is not a Brightpearl customer",
        "what_happened": "An order was made in Salesforce for an Account the console cannot find in Brightpearl: the Account has no Brightpearl id and is not linked to a Brightpearl customer. The order was not posted to Brightpearl.",
        "why_it_matters": "Until it is posted, Brightpearl does not allocate stock for the order or ship it, and finance cannot invoice it.",
        "how_to_fix": "Make sure the account is in Brightpearl: let the accounts flow bring it over, or fill the Account's Brightpearl id field in Salesforce with the customer's Brightpearl contact id. Then press Retry (or wait for the next run): the order posts once, and this ticket resolves itself.",
        "owner_team": "operations",
        "severity": "medium",
        "retryable": True,
    },
]


def seed(apps, schema_editor):
    ExceptionType = apps.get_model("exceptions", "ExceptionType")
    for spec in TYPES:
        ExceptionType.objects.get_or_create(code=spec["code"], defaults=spec)


class Migration(migrations.Migration):
    dependencies = [("exceptions", "0015_merge_salesforce_matches_type")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
