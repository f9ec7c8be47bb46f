"""Start real components (servers, workers) for deployment tests, wait for them, stop them.

A :class:`Deployment` owns every process it starts. Each runs in its own process group
(``start_new_session``) with its output in ``<root>/logs/<name>.log``; :meth:`Deployment.stop`
(also on leaving the ``with`` block, whatever happened) sends SIGTERM to every group, then
SIGKILL to what is left after a grace period, so no worker or child outlives the test.

A failure always names the component and shows the tail of its log (:class:`ComponentFailed`):
a component that exits early, a health check or a wait that times out, a one-shot command that
fails. Every wait is bounded.

Use::

    with Deployment(tmp_path) as dep:
        dep.run("migrate", ["airflow", "db", "migrate"], env=env, timeout=300)
        dep.start("api-server", ["airflow", "api-server", "--port", str(port)], env=env)
        dep.wait_http("api-server", f"http://127.0.0.1:{port}/api/v2/monitor/health")
        ...
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

__all__ = ["Component", "ComponentFailed", "Deployment", "log_tail"]

T = TypeVar("T")
TAIL_CHARS = 6000


def log_tail(path: Path, chars: int = TAIL_CHARS) -> str:
    """The last ``chars`` characters of the log at ``path`` ("" when there is none)."""
    try:
        with path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - chars))
            return fh.read().decode(errors="replace")
    except OSError:
        return ""


class ComponentFailed(AssertionError):
    """A component of a deployment failed; the message names it and shows its log's tail."""

    def __init__(self, component: str, problem: str, log: Path | None) -> None:
        tail = log_tail(log) if log is not None else ""
        where = f" (log: {log})" if log is not None else ""
        super().__init__(f"[{component}] {problem}{where}\n--- last lines of its log ---\n{tail}")
        self.component = component


@dataclass
class Component:
    """One started process: its name, the process and where its output goes."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None


@dataclass
class Deployment:
    """The processes of one deployment, rooted at ``root`` (logs in ``root/logs``)."""

    root: Path
    components: dict[str, Component] = field(default_factory=dict)
    stop_grace: float = 15.0

    def __post_init__(self) -> None:
        self.logs = self.root / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)

    def __enter__(self) -> Deployment:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(
        self,
        name: str,
        cmd: Sequence[str],
        *,
        env: Mapping[str, str],
        cwd: Path | None = None,
    ) -> Component:
        """Start ``cmd`` as component ``name`` in its own process group, output to its log."""
        if name in self.components:
            raise ValueError(f"a component named {name!r} was already started")
        log = self.logs / f"{name}.log"
        with log.open("ab") as out:
            process = subprocess.Popen(
                list(cmd),
                env=dict(env),
                cwd=str(cwd or self.root),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        component = Component(name=name, process=process, log=log)
        self.components[name] = component
        return component

    def run(
        self,
        name: str,
        cmd: Sequence[str],
        *,
        env: Mapping[str, str],
        timeout: float,
        cwd: Path | None = None,
    ) -> str:
        """Run a one-shot command to completion (bounded); return its output.

        Raises:
            ComponentFailed: it exited non-zero or ran past ``timeout``.
        """
        log = self.logs / f"{name}.log"
        with log.open("ab") as out:
            process = subprocess.Popen(
                list(cmd),
                env=dict(env),
                cwd=str(cwd or self.root),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            try:
                code = process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                _kill_group(process, grace=5.0)
                raise ComponentFailed(name, f"did not finish within {timeout} s", log) from None
        if code != 0:
            raise ComponentFailed(name, f"exited with code {code}: {' '.join(cmd)}", log)
        return log.read_text(errors="replace")

    def check(self) -> None:
        """Fail when any started component has exited.

        Raises:
            ComponentFailed: naming the first component found dead.
        """
        for component in self.components.values():
            code = component.process.poll()
            if code is not None:
                raise ComponentFailed(component.name, f"exited with code {code}", component.log)

    def wait_for(
        self,
        component: str,
        probe: Callable[[], T | None],
        *,
        timeout: float,
        what: str,
        interval: float = 0.5,
    ) -> T:
        """Call ``probe`` until it returns something other than None (bounded by ``timeout``),
        failing early when a component dies; probe exceptions count as "not yet", except a
        :class:`ComponentFailed` the probe raises, which ends the wait.

        Raises:
            ComponentFailed: the time ran out (naming ``component`` and showing its log), or a
                component exited meanwhile.
        """
        deadline = time.monotonic() + timeout
        last: BaseException | None = None
        while True:
            self.check()
            try:
                got = probe()
            except ComponentFailed:
                raise
            except Exception as exc:  # a server not up yet answers with connection errors
                last = exc
                got = None
            if got is not None:
                return got
            if time.monotonic() >= deadline:
                detail = f"; last error: {type(last).__name__}: {last}" if last else ""
                log = self.components[component].log if component in self.components else None
                raise ComponentFailed(component, f"{what}: not within {timeout} s{detail}", log)
            time.sleep(interval)

    def wait_http(self, component: str, url: str, *, timeout: float = 120.0) -> None:
        """Wait until ``url`` answers with a 2xx status (bounded).

        Raises:
            ComponentFailed: as :meth:`wait_for`.
        """
        import httpx

        def probe() -> bool | None:
            response = httpx.get(url, timeout=5.0)
            return True if response.is_success else None

        self.wait_for(component, probe, timeout=timeout, what=f"{url} answering 2xx")

    def log(self, name: str) -> str:
        """The whole log of component ``name``."""
        return (self.logs / f"{name}.log").read_text(errors="replace")

    def fail(self, component: str, problem: str) -> ComponentFailed:
        """A :class:`ComponentFailed` for ``component`` (with its log's tail), to raise."""
        found = self.components.get(component)
        return ComponentFailed(component, problem, found.log if found else None)

    def stop(self) -> None:
        """Stop every component: SIGTERM to each process group, SIGKILL after the grace."""
        for component in reversed(list(self.components.values())):
            _signal_group(component.process, signal.SIGTERM)
        deadline = time.monotonic() + self.stop_grace
        for component in self.components.values():
            remaining = max(0.1, deadline - time.monotonic())
            with contextlib.suppress(subprocess.TimeoutExpired):
                component.process.wait(timeout=remaining)
        for component in self.components.values():
            # the group may hold children even after its leader exited: kill what is left
            _signal_group(component.process, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                component.process.wait(timeout=5.0)


def _signal_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)


def _kill_group(process: subprocess.Popen[bytes], *, grace: float) -> None:
    _signal_group(process, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=grace)
    _signal_group(process, signal.SIGKILL)
    process.wait(timeout=5.0)
