"""The report prints the entry its own report.generated entry follows, even with writers busy."""

import threading

import pytest
from django.db import connections

from audit import reports, services
from audit.models import Entry
from audit.verification import verify_chain
from tests.audit.helpers import build_chain
from tests.audit.test_reports import today

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_printed_predecessor_is_exact_while_others_write(postgres_only, monkeypatch):
    build_chain(3)
    report = services.report_request(
        actor=None,
        kind="audit.period",
        parameters={"start": today().isoformat(), "end": today().isoformat()},
        consortium_id=None,
        enqueue=False,
    )
    render = reports.render_pdf

    def render_while_another_writer_records(*args, **kwargs):
        # Another connection records (and tries to seal) an entry while the PDF is laid out.
        def write():
            try:
                services.record(
                    actor=None, action="test.meanwhile", object_type="test", object_id="1"
                )
            finally:
                connections.close_all()

        writer = threading.Thread(target=write)
        writer.start()
        writer.join()
        return render(*args, **kwargs)

    monkeypatch.setattr(reports, "render_pdf", render_while_another_writer_records)
    report = services.report_build(report_id=report.pk)

    assert report.state == report.State.DONE
    assert report.audit_seq == report.after_seq + 1  # printed in the PDF as its predecessor
    assert Entry.objects.get(action="test.meanwhile").seq == report.audit_seq + 1
    assert verify_chain().ok
