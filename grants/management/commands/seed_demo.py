from django.core.management.base import BaseCommand, CommandError

from audit import services as audit_services
from consent import demo as consent_demo
from governance import demo as governance_demo
from grants import demo as grants_demo
from review import demo as review_demo


class Command(BaseCommand):
    help = (
        "Create a realistic demo consortium (members, bylaws, ethics board, purposes, residents, "
        "an approved request with its grant, a consultation, meetings and proposals); running it "
        "again changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--residents",
            type=int,
            default=0,
            help="add this many residents with random consent decisions (bulk, progress bar)",
        )

    def handle(self, *args, **options):
        residents = options["residents"]
        if residents < 0:
            raise CommandError("--residents must be zero or more.")
        # Each app seeds its own records through its own services, in dependency order.
        governance_demo.seed(stdout=self.stdout)
        # A purpose opens only under the data-ethics board's approval: the review demo makes
        # the purposes (drafts) and approves them before consent opens them to residents.
        review_demo.seed_approvals(stdout=self.stdout)
        consent_demo.seed(residents=residents, stdout=self.stdout)
        review_demo.seed(stdout=self.stdout)
        grants_demo.seed(stdout=self.stdout)
        # Apps this one may not import (participation) registered their parts.
        for seed in governance_demo.later_parts():
            seed(stdout=self.stdout)
        # A public key in the JWKS and a signed checkpoint, so that a newcomer can verify at once.
        audit_services.signing_key_ensure()
        audit_services.checkpoint_create()
        self.stdout.write(self.style.SUCCESS("Demo data is ready."))
