from django.core.management.base import BaseCommand, CommandError

from audit import keys
from audit import selectors as audit_selectors
from grants import services


class Command(BaseCommand):
    help = (
        "Rotate the platform's signing key: a new key signs from now on and the old one stays "
        "in the JWKS until the last grant it signed expires. With --compromised=KID, revoke that "
        "key and every grant it signed instead."
    )

    def add_arguments(self, parser):
        parser.add_argument("--algorithm", choices=keys.ALGORITHMS, default=keys.EDDSA)
        parser.add_argument(
            "--compromised",
            metavar="KID",
            help="a leaked key id; write --compromised=KID, as a key id may begin with -",
        )

    def handle(self, *args, **options):
        kid = options["compromised"]
        if kid:
            key = audit_selectors.signing_key_by_kid(kid)
            if key is None:
                raise CommandError(f"No signing key has the id {kid!r}.")
            was_active = key.status == key.Status.ACTIVE
            revoked = services.signing_key_compromised(actor=None, kid=kid)
            self.stdout.write(f"Key {kid} revoked; {revoked} grant(s) it signed revoked.")
            if was_active:
                new, _ = services.signing_key_rotate(actor=None, algorithm=key.algorithm)
                self.stdout.write(f"New {new.algorithm} key {new.kid} signs from now on.")
            return
        new, previous = services.signing_key_rotate(actor=None, algorithm=options["algorithm"])
        self.stdout.write(f"New {new.algorithm} key {new.kid} signs from now on.")
        if previous is not None:
            previous.refresh_from_db()
            until = previous.publish_until.isoformat() if previous.publish_until else "for ever"
            self.stdout.write(f"Retired key {previous.kid} stays in the JWKS until {until}.")
