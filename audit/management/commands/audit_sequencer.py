import signal
import threading

from django.core.management.base import BaseCommand, CommandError

from audit import sequencer, services


class Command(BaseCommand):
    help = (
        "Seal the audit log apart from the writers: woken by each commit on PostgreSQL "
        "(LISTEN/NOTIFY), polling on SQLite; run it with AUDIT_SEQUENCER=1 (writers then only "
        "insert pending entries). Stops on SIGTERM or Ctrl-C; nothing is lost when it dies."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--poll",
            type=float,
            default=1.0,
            help="seconds between looks when nothing wakes it (default 1)",
        )
        parser.add_argument("--once", action="store_true", help="seal what is pending and exit")

    def handle(self, *args, **options):
        if options["poll"] <= 0:
            raise CommandError("--poll must be a positive number of seconds")
        if options["once"]:
            self.stdout.write(f"sealed {services.seal()} entries")
            return
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        self.stdout.write("audit sequencer: sealing pending entries as they are committed")
        total = sequencer.run(stop=stop, poll_seconds=options["poll"])
        self.stdout.write(f"audit sequencer stopped after sealing {total} entries")
