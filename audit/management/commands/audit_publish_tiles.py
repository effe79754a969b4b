from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from audit import publish
from config.progress import progress_bar


class Command(BaseCommand):
    help = (
        "Write the log as C2SP tlog-tiles files for a static host: OUT_DIR/checkpoint (the "
        "newest checkpoint with its cosignatures), OUT_DIR/tile/<L>/<N>[.p/<W>] and "
        "OUT_DIR/tile/entries/<N>[.p/<W>], as /audit-log/ serves them. Full tiles already in "
        "OUT_DIR are kept (they never change); the checkpoint is written last."
    )

    def add_arguments(self, parser):
        parser.add_argument("out_dir", type=Path)

    def handle(self, *args, **options):
        out_dir: Path = options["out_dir"]
        try:
            plan = publish.plan()
        except publish.NothingToPublish as exc:
            raise CommandError(str(exc)) from None
        with progress_bar(total=len(plan.tiles), desc="tiles", unit="files") as bar:
            written = publish.write(out_dir, plan, progress=bar.update)
        self.stdout.write(
            f"OK: checkpoint of {plan.size} entries, {written} file(s) written, "
            f"{len(plan.tiles) - written} unchanged, in {out_dir}"
        )
