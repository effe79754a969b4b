from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from config.progress import progress_bar
from grants import selectors, services

MAX_BATCH = 10_000


class Command(BaseCommand):
    help = (
        "Store the status 'expired' on every active or suspended grant whose expiry has passed, "
        "each with its audit entry and its event in the revocation feed and webhooks. The task "
        "cluster does this every GRANTS_EXPIRE_MINUTES; run it by hand to catch up at once."
    )

    def add_arguments(self, parser):
        # Read as text and checked below, so that bad input gets one line, not argparse's usage.
        parser.add_argument(
            "--batch-size",
            default=str(services.EXPIRE_BATCH),
            help=f"grants per transaction, 1 to {MAX_BATCH:,} (default {services.EXPIRE_BATCH})",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="only count the grants that would expire"
        )

    def handle(self, *args, **options):
        text = str(options["batch_size"]).strip()
        if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_BATCH:
            raise CommandError(
                f"--batch-size must be a whole number from 1 to {MAX_BATCH:,}, not {text!r}."
            )
        now = timezone.now()
        due = selectors.grants_expiring(now=now).count()
        if options["dry_run"]:
            self.stdout.write(f"{due} grant(s) would expire.")
            return
        with progress_bar(total=due, desc="expiring", unit="grants") as bar:
            expired = services.grants_expire(now=now, batch_size=int(text), progress=bar.update)
        self.stdout.write(f"{expired} grant(s) expired.")
