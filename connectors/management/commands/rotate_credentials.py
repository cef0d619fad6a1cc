from django.core.management.base import BaseCommand
from django.db import transaction

from brands.audit import audit
from connectors import crypto
from connectors.models import Connection


class Command(BaseCommand):
    help = (
        "Re-encrypt every connection's credentials under the newest key in CREDENTIAL_KEYS. "
        "Afterwards the older keys can be removed."
    )

    def handle(self, *args, **options):
        rotated = 0
        # One transaction: either every row moves to the new key or none does.
        with transaction.atomic():
            for conn in Connection.objects.select_for_update().exclude(credentials_token=""):
                conn.credentials_token = crypto.rotate(conn.credentials_token)
                conn.save(update_fields=["credentials_token"])
                rotated += 1
            # In the same transaction: the trace exists exactly when the rows moved.
            audit(
                "credentials.rotated",
                target="every connection",
                summary=f"Re-encrypted the credentials of {rotated} connection(s) under the "
                "newest key in CREDENTIAL_KEYS (manage.py rotate_credentials).",
                rows=rotated,
            )
        self.stdout.write(
            self.style.SUCCESS(f"Re-encrypted the credentials of {rotated} connection(s).")
        )
