"""
List the open purposes and the board's approval that covers each now, or why none does.

Purposes opened before approvals were required stay open; this tells the secretariat which of
them need a request approved before their notice can change. Exit 1 when one is not covered.
"""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from consent import approvals, notices
from consent.models import Purpose


class Command(BaseCommand):
    help = (
        "List the open purposes with the data-ethics board's approval that covers each; "
        "exit 1 when one has none."
    )

    def add_arguments(self, parser):
        parser.add_argument("--consortium", help="only the consortium with this slug")

    def handle(self, *args, **options):
        purposes = Purpose.objects.filter(status=Purpose.Status.OPEN).select_related("consortium")
        if options["consortium"]:
            purposes = purposes.filter(consortium__slug=options["consortium"])
        uncovered = 0
        for purpose in purposes.order_by("consortium__slug", "code"):
            label = f"{purpose.consortium.slug}/{purpose.code}"
            try:
                approval = approvals.require(purpose, notices.purpose_terms(purpose))
            except ValidationError as error:
                uncovered += 1
                self.stdout.write(f"{label}: NOT COVERED: {' '.join(error.messages)}")
                continue
            if approval is None:
                self.stdout.write(f"{label}: no approval rule installed")
                continue
            self.stdout.write(
                f"{label}: review #{approval.ticket_id}, decided {approval.decided_on}, "
                f"until {approval.valid_until}"
            )
        if uncovered:
            raise CommandError(f"{uncovered} open purpose(s) without an approval in force.")
