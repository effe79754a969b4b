"""Add (or change) a log this platform witnesses, as the admin's form does."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from audit import notes, services
from audit.models import WitnessedLog


class Command(BaseCommand):
    help = (
        "Witness the log ORIGIN whose checkpoints are signed by VERIFIER_KEY (signed-note form "
        "name+keyID+key, the name being ORIGIN), as the secretariat does in the admin."
    )

    def add_arguments(self, parser):
        parser.add_argument("origin")
        parser.add_argument("verifier_key")
        parser.add_argument("--inactive", action="store_true", help="stop witnessing it")

    def handle(self, *args, **options):
        try:
            log = services.witnessed_log_save(
                actor=None,
                log=WitnessedLog.objects.filter(origin=options["origin"]).first(),
                origin=options["origin"],
                verifier_key=options["verifier_key"],
                active=not options["inactive"],
            )
        except (notes.NoteError, ValidationError) as exc:
            message = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            raise CommandError(f"not saved: {message}") from None
        self.stdout.write(f"witnessing {log.origin}" + ("" if log.active else " (inactive)"))
