from django.core.management.base import BaseCommand, CommandError

from audit import services


class Command(BaseCommand):
    help = (
        "Sign a checkpoint of the audit log (C2SP tlog-checkpoint over the Merkle tree) when it "
        "has grown since the last one. Refuses (exit 1) when the log does not extend the last "
        "checkpoint signed, as recorded outside the database (AUDIT_CHECKPOINT_STATE)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--force", action="store_true", help="sign one even if the head has not moved"
        )

    def handle(self, *args, **options):
        try:
            checkpoint = services.checkpoint_create(force=options["force"])
        except services.CheckpointRefused as exc:
            raise CommandError(f"refused to sign: {exc}") from None
        if checkpoint is None:
            self.stdout.write("No new entries since the last checkpoint; none made.")
            return
        self.stdout.write(checkpoint.note)
