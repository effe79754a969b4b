from django.core.management.base import BaseCommand, CommandError

from config.progress import progress_bar
from consent.models import Purpose
from grants import services
from grants.models import Grant

MAX_CHUNK = 10_000


def _whole(text, name: str, low: int, high: int) -> int:
    text = str(text).strip()
    if not (text.isascii() and text.isdigit()) or not low <= int(text) <= high:
        raise CommandError(f"{name} must be a whole number from {low} to {high:,}, not {text!r}.")
    return int(text)


class Command(BaseCommand):
    help = (
        "Make the withdrawal notices (Security Event Tokens) still missing for a closed purpose "
        "(one per resident and service that received the resident's data) or for an ended "
        "grant (one per resident whose data it released), in chunks, each pushed to services "
        "with an events URL once it commits. What was made already is left alone, so this "
        "finishes a fan-out that stopped. The task cluster does the same after a closure."
    )

    def add_arguments(self, parser):
        # Read as text and checked below, so that bad input gets one line, not argparse's usage.
        parser.add_argument("--purpose", help="the closed purpose's id")
        parser.add_argument("--grant", help="the ended (revoked or expired) grant's id")
        parser.add_argument(
            "--chunk-size",
            default=None,
            help=f"residents per transaction, 1 to {MAX_CHUNK:,} (default GRANTS_FAN_OUT_CHUNK)",
        )

    def handle(self, *args, **options):
        if (options["purpose"] is None) == (options["grant"] is None):
            raise CommandError("Give either --purpose ID or --grant ID.")
        size = options["chunk_size"]
        size = None if size is None else _whole(size, "--chunk-size", 1, MAX_CHUNK)
        if options["purpose"] is not None:
            made = self._purpose(_whole(options["purpose"], "--purpose", 1, 2**63 - 1), size)
        else:
            made = self._grant(_whole(options["grant"], "--grant", 1, 2**63 - 1), size)
        self.stdout.write(f"{made} notice(s) made.")

    def _purpose(self, purpose_id: int, size: int | None) -> int:
        purpose = Purpose.objects.filter(pk=purpose_id).first()
        if purpose is None:
            raise CommandError(f"No purpose has the id {purpose_id}.")
        if purpose.status != Purpose.Status.CLOSED:
            raise CommandError(f"The purpose {purpose.code} is not closed: nobody is told yet.")
        _, total = services.purpose_closed_plan(purpose_id)
        with progress_bar(total=total, desc="notices", unit="notices") as bar:
            return services.purpose_closed_notify(
                purpose_id=purpose_id, chunk_size=size, progress=bar.update
            )

    def _grant(self, grant_id: int, size: int | None) -> int:
        grant = Grant.objects.filter(pk=grant_id).first()
        if grant is None:
            raise CommandError(f"No grant has the id {grant_id}.")
        if not services.events.grant_end_tells_residents(grant):
            raise CommandError(f"The grant {grant.jti} has not ended: nobody is told.")
        with progress_bar(total=None, desc="residents", unit="residents") as bar:
            return services.grant_ended_notify(
                grant_id=grant_id,
                batch_size=size or services.events.GRANT_ENDED_BATCH,
                progress=bar.update,
            )
