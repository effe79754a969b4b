from django.core.management.base import BaseCommand, CommandError

from audit import roles, services, tree
from audit.models import Entry
from config.progress import progress_bar


class Command(BaseCommand):
    help = (
        "Build the Merkle tree's tiles for the sealed entries it does not cover yet (a log "
        "sealed before the tree existed), as the schema's owner on PostgreSQL. On SQLite "
        "sealing catches the tree up as well; this shows progress, for a large log."
    )

    def handle(self, *args, **options):
        # The tiles are written by the sealer alone; catching up a tree is the owner's work.
        with roles.as_owner():
            self._build()

    def _build(self) -> None:
        head = Entry.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
        try:
            start = tree.size()
            with progress_bar(total=head - start, desc="tree", unit="entries") as bar:
                # Under the sealing lock: nothing is sealed while the tree catches up.
                added, size = services.tree_build(progress=bar.update)
        except tree.TreeError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"OK: {added} entries added; the tree holds {size}.")
