"""Print this platform's verifier keys: as a witness, or (--log) as a log."""

from django.conf import settings
from django.core.management.base import BaseCommand
from django.urls import reverse

from audit import keys, notes, services, witnessing


class Command(BaseCommand):
    help = (
        "Print this platform's witness verifier key (C2SP tlog-cosignature, type 0x04) and its "
        "submission prefix: the line another platform puts in its AUDIT_WITNESSES. With --log, "
        "print the log's origin and checkpoint verifier key instead: what another platform's "
        "secretariat enters to witness this log."
    )

    def add_arguments(self, parser):
        parser.add_argument("--log", action="store_true", help="the log's own verifier key")

    def handle(self, *args, **options):
        if options["log"]:
            key = services.signing_key_ensure(algorithm=keys.EDDSA)
            origin = settings.AUDIT_LOG_ORIGIN
            self.stdout.write(f"{origin} {notes.verifier_key(origin, key.public_key())}")
            return
        prefix = reverse("audit:witness-add-checkpoint").rsplit("/", 1)[0]
        self.stdout.write(f"{witnessing.witness_verifier_key()} {settings.PLATFORM_URL}{prefix}")
