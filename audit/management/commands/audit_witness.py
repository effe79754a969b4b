"""Submit the newest checkpoint to the configured witnesses now."""

from django.core.management.base import BaseCommand, CommandError

from audit import selectors, witnessing


class Command(BaseCommand):
    help = (
        "Submit the newest checkpoint to every witness of AUDIT_WITNESSES that has not cosigned "
        "it (C2SP tlog-witness add-checkpoint), store their cosignatures, and print each "
        "witness's outcome. Exit 1 when fewer than AUDIT_WITNESS_QUORUM cosigned it."
    )

    def handle(self, *args, **options):
        try:
            witnesses = witnessing.configured_witnesses()
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        if not witnesses:
            raise CommandError("no witness is configured (AUDIT_WITNESSES)")
        checkpoint = selectors.checkpoint_latest_merkle()
        if checkpoint is None:
            raise CommandError("no checkpoint yet: run audit_checkpoint first")
        for name, outcome in witnessing.checkpoint_witness(checkpoint).items():
            self.stdout.write(f"{name}: {outcome}")
        if not witnessing.is_witnessed(checkpoint):
            raise CommandError(
                f"checkpoint {checkpoint.seq} is not witnessed: fewer than "
                f"{witnessing.quorum()} witness(es) cosigned it"
            )
        self.stdout.write(f"checkpoint {checkpoint.seq} witnessed")
