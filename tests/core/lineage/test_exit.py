"""Process exit with a hung lineage server: one short bound per process, none once it stalled.

Each test runs a child process that emits to a server which accepts TCP and never answers
(:class:`BlackHoleServer`), and times the child from its last output line to its exit. The bound
(``CARGOHOLD_LINEAGE_EXIT_TIMEOUT``) is 4 s so that what is guarded (one bound, not one per
emitter; no wait at all for a stalled endpoint) stands far apart from a busy host's noise.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
import time

from cargohold.core.lineage.testing import BlackHoleServer

BOUND = 4.0

_CHILD = """
import time
from cargohold.core.context import RunContext
from cargohold.core.lineage import LineageEmitter
ctx = RunContext(job="j", task="t")
first = LineageEmitter.from_env()
for _ in range(3):
    first.start(run=first.identity(ctx))
time.sleep({pause})  # the first event's send is in flight meanwhile (never answered)
second = LineageEmitter.from_env()  # as the IO manager of a second Dagster run builds one
for _ in range(2):
    second.start(run=second.identity(ctx))
print("emitted", flush=True)
"""


def _exit_lag(url: str, *, pause: float) -> tuple[float, str]:
    """Run the child; seconds from its last line to its exit, and its stderr."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("OPENLINEAGE", "CARGOHOLD_LINEAGE"))
    }
    env.update(OPENLINEAGE_URL=url, CARGOHOLD_LINEAGE_EXIT_TIMEOUT=str(BOUND))
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(_CHILD.format(pause=pause))],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    began = time.perf_counter()
    _, stderr = proc.communicate(timeout=120)
    lag = time.perf_counter() - began
    assert line.strip() == "emitted", stderr
    assert proc.returncode == 0, stderr
    return lag, stderr


def _dropped(stderr: str) -> list[int]:
    return [int(n) for n in re.findall(r"(\d+) dropped", stderr)]


def test_the_exit_waits_one_bound_for_all_emitters_not_one_each() -> None:
    with BlackHoleServer() as server:
        lag, stderr = _exit_lag(server.url, pause=0)
    # one bound (4 s) for both emitters; one each would be 8 s
    assert lag < 1.5 * BOUND, (lag, stderr)
    # everything is counted as dropped, the event in flight included
    assert sorted(_dropped(stderr)) == [2, 3], stderr


def test_a_stalled_endpoint_is_not_waited_for_at_exit() -> None:
    with BlackHoleServer() as server:
        # the first send has been in flight longer than the bound when the process exits
        lag, stderr = _exit_lag(server.url, pause=BOUND + 0.5)
    # no wait at all, for either emitter (the second's own send is young, the endpoint is not)
    assert lag < BOUND / 2, (lag, stderr)
    assert sorted(_dropped(stderr)) == [2, 3], stderr


def test_a_send_in_flight_longer_than_a_quarter_of_the_bound_is_a_stall() -> None:
    with BlackHoleServer() as server:
        # the first send has hung for 1.5 s (more than BOUND / 4, less than BOUND) at exit
        lag, stderr = _exit_lag(server.url, pause=BOUND / 4 + 0.5)
    # no wait: a server that answers takes milliseconds; waiting to BOUND would be 2.5 s more
    assert lag < BOUND / 2, (lag, stderr)
    assert sorted(_dropped(stderr)) == [2, 3], stderr
