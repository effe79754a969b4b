from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from audit import selectors, services
from audit.export import export
from config.progress import progress_bar


class Command(BaseCommand):
    help = (
        "Export the audit chain (entries as JSON Lines, checkpoints, public keys, manifest) to "
        "OUT_DIR, for tools/verify_audit_export.py."
    )

    def add_arguments(self, parser):
        parser.add_argument("out_dir", type=Path)
        parser.add_argument("--start-seq", type=int, default=1)
        parser.add_argument("--end-seq", type=int, default=None)

    def handle(self, *args, **options):
        start, end = options["start_seq"], options["end_seq"]
        if start < 1 or (end is not None and end < start):
            raise CommandError("--start-seq must be at least 1 and --end-seq not below it.")
        out_dir: Path = options["out_dir"]
        if out_dir.exists() and not out_dir.is_dir():
            raise CommandError(f"{out_dir} exists and is not a directory.")
        services.seal()
        head = selectors.chain_head()
        last = min(end, head.seq) if (head and end) else (head.seq if head else 0)
        with progress_bar(total=max(last - start + 1, 0), desc="exporting", unit="entries") as bar:
            manifest = export(out_dir, start_seq=start, end_seq=end, progress=bar.update)
        self.stdout.write(
            f"Exported {manifest['entries']} entries "
            f"({manifest['start_seq']}..{manifest['end_seq']}) to {out_dir}"
        )
