import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from audit import selectors, services
from audit.verification import verify_chain
from config.progress import progress_bar


class Command(BaseCommand):
    help = (
        "Verify every entry of the audit chain (sequence, link, hash) and every checkpoint "
        "(signature, position). Exit 0 when all hold, 1 naming the first bad sequence number."
    )

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="print the verdict as JSON")
        parser.add_argument(
            "--no-seal",
            action="store_true",
            help="do not seal pending entries first (for a read-only replica)",
        )

        parser.add_argument(
            "--cosigned",
            action="append",
            default=[],
            metavar="NOTE_FILE",
            help="a checkpoint note cosigned by a configured witness, obtained elsewhere (from "
            "a monitor, another copy of /audit-log/checkpoint): the log must extend it",
        )

    def handle(self, *args, **options):
        try:
            cosigned = [Path(name).read_text(encoding="utf-8") for name in options["cosigned"]]
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"cannot read a cosigned checkpoint: {exc}") from None
        if not options["no_seal"]:
            services.seal()
        head = selectors.chain_head()
        with progress_bar(total=head.seq if head else 0, desc="verifying", unit="entries") as bar:
            verdict = verify_chain(progress=bar.update, cosigned_notes=cosigned)
        if options["json"]:
            self.stdout.write(json.dumps(verdict.as_dict(), ensure_ascii=False))
        elif verdict.ok:
            self.stdout.write(
                f"OK: {verdict.entries} entries, head {verdict.head_seq} {verdict.head_hash}, "
                f"{verdict.checkpoints} checkpoint(s) verified"
                + (f", {verdict.witnessed} witnessed" if verdict.witnessed else "")
                + (f", {verdict.pending} pending" if verdict.pending else "")
            )
        else:
            first = verdict.first
            self.stdout.write(f"FAIL at seq {first.seq}: {first.kind}: {first.detail}")
            for problem in verdict.problems[1:]:
                self.stdout.write(f"  also seq {problem.seq}: {problem.kind}: {problem.detail}")
        if not verdict.ok:
            if not options["no_seal"]:  # a read-only check (a replica) writes nothing
                services.verification_failure_record(verdict=verdict)
            raise SystemExit(1)
