from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from config.progress import progress_bar
from participation import selectors, services
from participation.tokens import LINK_MAX_AGE

MAX_DAYS = 36_500


class Command(BaseCommand):
    help = (
        "Erase the addresses of e-mail participants no longer needed (APPI Art. 22): every "
        "consultation they commented on had its result published more than the retention's "
        "days ago, or their unconfirmed link expired that long ago. Each erasure has its audit "
        "entry; the comments stay. The task cluster does this daily; run it by hand to catch up."
    )

    def add_arguments(self, parser):
        # Read as text and checked below, so that bad input gets one line, not argparse's usage.
        parser.add_argument(
            "--days",
            default=None,
            help="days kept once no longer needed "
            "(default PARTICIPATION_EMAIL_RETENTION_DAYS, now "
            f"{settings.PARTICIPATION_EMAIL_RETENTION_DAYS})",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="only count the addresses that would be erased"
        )

    def handle(self, *args, **options):
        text = options["days"]
        text = str(settings.PARTICIPATION_EMAIL_RETENTION_DAYS if text is None else text).strip()
        if not (text.isascii() and text.isdigit()) or int(text) > MAX_DAYS:
            raise CommandError(
                f"--days must be a whole number from 0 to {MAX_DAYS:,}, not {text!r}."
            )
        days, now = int(text), timezone.now()
        due = selectors.email_participants_past_retention(
            now=now, days=days, link_max_age=LINK_MAX_AGE
        ).count()
        if options["dry_run"]:
            self.stdout.write(f"{due} address(es) would be erased.")
            return
        with progress_bar(total=due, desc="erasing", unit="addresses") as bar:
            erased = services.email_participants_erase_expired(
                now=now, days=days, progress=bar.update
            )
        self.stdout.write(f"{erased} address(es) erased.")
