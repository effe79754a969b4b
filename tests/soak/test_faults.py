"""The soak's fault injector and figures: plans, windows, loopback only, a real SIGKILL."""

import signal
import subprocess
import sys
import time
from types import SimpleNamespace

import pytest

from bench.soak import faults, report
from bench.soak.faults import Injector, Window


def test_the_plan_spreads_the_faults_over_the_run_leaving_both_ends_quiet():
    assert faults.plan(["web_worker", "postgres", "redis"], 100) == [
        (25.0, "web_worker"),
        (50.0, "postgres"),
        (75.0, "redis"),
    ]
    assert faults.plan(list(faults.CI_FAULTS), 60) == [(30.0, "postgres")]


def test_an_unknown_fault_is_refused():
    with pytest.raises(ValueError, match="unknown faults: reboot"):
        faults.plan(["reboot"], 60)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8390", "http://[::1]:8390", "127.0.0.2:5440"])
def test_loopback_addresses_are_accepted(url):
    faults.require_loopback(url)


@pytest.mark.parametrize("url", ["http://10.0.0.5:8390", "http://db.example.jp", "http://:80"])
def test_faults_are_injected_on_loopback_only(url):
    with pytest.raises(ValueError, match="loopback only"):
        faults.require_loopback(url)

    stack = SimpleNamespace(base_url=url)
    with pytest.raises(ValueError, match="loopback only"):
        Injector(stack, [])


def test_a_window_lasts_until_recovery_and_a_grace_and_covers_overlapping_requests():
    window = Window(fault="redis", start=100.0, injected=101.0, recovered=104.0)

    assert window.end == 104.0 + faults.GRACE_SECONDS
    assert window.recovery_seconds == 4.0
    assert window.covers(99.0, 100.5)  # under way when the fault came
    assert window.covers(108.0, 108.1)  # within the grace
    assert not window.covers(90.0, 99.0)
    assert not window.covers(110.0, 111.0)


def test_a_window_never_recovered_is_bounded_by_the_recovery_limit():
    window = Window(fault="postgres", start=100.0, injected=102.0)

    assert window.recovery_seconds is None
    assert window.end == 102.0 + faults.RECOVERY_LIMIT_SECONDS + faults.GRACE_SECONDS


class FakeStack:
    """A gunicorn master's workers, played by sleeping processes."""

    base_url = "http://127.0.0.1:8390"
    web_port = 8390
    web_workers = 1

    def __init__(self):
        self.worker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        self.respawned = []

    def web_worker_pids(self):
        if self.worker.poll() is not None and not self.respawned:
            # The master has noticed the death and started another worker.
            self.respawned.append(
                subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
            )
        return [process.pid for process in [self.worker, *self.respawned] if process.poll() is None]


def test_killing_a_web_worker_sends_sigkill_and_waits_for_its_replacement(monkeypatch):
    stack = FakeStack()
    injector = Injector(stack, [])
    monkeypatch.setattr(injector, "_healthz", lambda: True)
    try:
        window = injector.inject("web_worker")

        assert stack.worker.wait(5) == -signal.SIGKILL
        assert window.fault == "web_worker"
        assert window.detail == f"worker {stack.worker.pid} killed"
        assert window.recovered is not None and window.recovered >= window.start
    finally:
        for process in stack.respawned:
            process.kill()


def test_the_injector_runs_its_plan_in_time_and_records_each_window(monkeypatch):
    stack = SimpleNamespace(base_url="http://127.0.0.1:8390")
    injector = Injector(stack, [(0.05, "redis"), (0.1, "redis")])
    injected = []

    def fake_redis(window):
        injected.append(time.time())
        window.detail = "redis restarted"
        return lambda: True

    monkeypatch.setattr(injector, "_redis", fake_redis)
    t0 = time.time()
    injector.start(t0)
    time.sleep(0.5)
    injector.stop()

    assert [window.fault for window in injector.windows] == ["redis", "redis"]
    assert injected[0] - t0 >= 0.05 and injected[1] - t0 >= 0.1
    assert all(window.recovered is not None for window in injector.windows)


def test_a_fault_that_cannot_be_injected_is_reported_not_fatal(monkeypatch):
    stack = SimpleNamespace(base_url="http://127.0.0.1:8390", web_worker_pids=lambda: [])
    injector = Injector(stack, [(0.0, "web_worker")])
    injector.start(time.time())
    time.sleep(0.2)
    injector.stop()

    assert injector.windows == []
    assert injector.errors == ["web_worker: no gunicorn worker to kill"]


def test_the_figures_per_kind_and_per_window():
    requests = [
        {"k": "api.check", "t": 10.0 + i, "ms": float(i + 1), "s": 200, "e": ""} for i in range(100)
    ]
    requests.append({"k": "api.check", "t": 50.0, "ms": 3.0, "s": 503, "e": "CatchResponseError"})
    window = Window(fault="postgres", start=49.0, injected=50.0, recovered=51.0)

    kinds = report.by_kind(requests, duration=101.0)
    rows = report.by_window(requests, [window], t0=0.0)

    assert kinds["api.check"]["count"] == 101
    assert kinds["api.check"]["rps"] == pytest.approx(1.0)
    assert kinds["api.check"]["p50"] == 50.0
    assert kinds["api.check"]["p99"] == 99.0
    assert kinds["api.check"]["5xx"] == 1
    assert rows[0]["fault"] == "postgres" and rows[0]["at"] == 49.0
    assert rows[0]["errors"] == {503: 1}
    assert rows[0]["client_recovery"] == pytest.approx(50.003 - 49.0)
    assert rows[-1]["fault"] == "outside windows" and rows[-1]["errors"] == {}
