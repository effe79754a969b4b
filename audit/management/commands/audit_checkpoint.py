from django.core.management.base import BaseCommand

from audit import services


class Command(BaseCommand):
    help = "Sign a checkpoint of the audit chain's head (when it has grown since the last one)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force", action="store_true", help="sign one even if the head has not moved"
        )

    def handle(self, *args, **options):
        checkpoint = services.checkpoint_create(force=options["force"])
        if checkpoint is None:
            self.stdout.write("No new entries since the last checkpoint; none made.")
            return
        self.stdout.write(checkpoint.note)
