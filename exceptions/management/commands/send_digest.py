from django.core.management.base import BaseCommand

from exceptions.digest import digest_send


class Command(BaseCommand):
    help = (
        "E-mail each team of each active brand its open exception tickets, grouped by type. "
        "A django-q2 schedule runs this every morning; run it by hand to send one now."
    )

    def handle(self, *args, **options) -> None:
        sent = digest_send()
        self.stdout.write(self.style.SUCCESS(f"Sent {sent} digest e-mail(s)."))
