import shutil
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from audit import reports, services
from audit.models import Report
from config.progress import progress_bar


class Command(BaseCommand):
    help = (
        "Build a PDF report now and write it to --out. The default kind is the audit log report "
        "for a period (--start, --end); other kinds take their parameters as --param NAME=VALUE "
        "(--list-kinds shows them)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--kind", default="audit.period")
        parser.add_argument("--start", help="first day, YYYY-MM-DD (audit.period)")
        parser.add_argument("--end", help="last day, YYYY-MM-DD (audit.period)")
        parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE")
        parser.add_argument("--language", default="ja", choices=["ja", "en"])
        parser.add_argument("--out", type=Path)
        parser.add_argument("--list-kinds", action="store_true")

    def handle(self, *args, **options):
        if options["list_kinds"]:
            for kind in reports.kinds():
                fields = [name for name in kind.form_class.base_fields if name != "language"]
                self.stdout.write(f"{kind.kind}: {kind.label} ({', '.join(fields)})")
            return
        if not options["out"]:
            raise CommandError("--out F.pdf is required.")
        try:
            kind = reports.get(options["kind"])
        except reports.ReportError as exc:
            raise CommandError(f"{exc}; --list-kinds shows the kinds.") from None
        data = {"language": options["language"]}
        for name in ("start", "end"):
            if options[name]:
                data[name] = options[name]
        for pair in options["param"]:
            name, sep, value = pair.partition("=")
            if not sep:
                raise CommandError(f"--param {pair!r} is not NAME=VALUE.")
            data[name] = value
        form = kind.form_class(data=data, user=None)
        if not form.is_valid():

            def option(name: str) -> str:
                if name == "__all__":
                    return ""
                return f"--{name}" if name in ("start", "end", "language") else f"--param {name}"

            problems = "; ".join(
                f"{option(name)}: {' '.join(errors)}".lstrip(": ")
                for name, errors in form.errors.items()
            )
            raise CommandError(problems)
        out: Path = options["out"]
        if out.exists() and out.is_dir():
            raise CommandError(f"{out} is a directory; give a file name.")
        if not out.parent.exists():
            raise CommandError(f"the folder {out.parent} does not exist.")
        parameters, consortium_id = form.parameters()
        try:
            report = services.report_request(
                actor=None,
                kind=kind.kind,
                parameters=parameters,
                consortium_id=consortium_id,
                language=options["language"],
                enqueue=False,
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        with progress_bar(total=100, desc="building", unit="%") as bar:

            def advance(percent: int) -> None:
                bar.update(max(percent - bar.n, 0))

            report = services.report_build(report_id=report.pk, progress=advance)
            advance(100)
        if report.state != Report.State.DONE:
            raise CommandError(f"the report failed: {report.failure_reason}")
        shutil.copyfile(services.report_file(report), out)
        self.stdout.write(
            f"Wrote {out} ({report.size} bytes, SHA-256 {report.sha256}, "
            f"audit entry {report.audit_seq})"
        )
