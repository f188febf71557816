"""Tovholder as the benchmark and the load tests run it: a seeded data
directory, `tovholder serve` as a subprocess, and the facilitator's and the
projector's screens."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from markupsafe import escape
from websockets.asyncio.client import ClientConnection, connect

SCRIPT = "implementeringsworkshop"  # joined with the code alone (no lobby); has a card step
CARD_STEP = "skaerpelse"
DOT_POLL = "prikker"  # five dots over the focus areas, at most three on one
RANK_POLL = "prioritering"  # the focus areas in order
FOCUS_AREAS = (
    {"id": "fa1", "title": "Barnets perspektiv"},
    {"id": "fa2", "title": "Tidlig indsats"},
    {"id": "fa3", "title": "Samarbejde med skolen"},
)
USER, PASSWORD = "bench", "bench-password-not-secret"
STANDBY = (
    "import sys, server.app, server.cli, server.store.migrate; "
    "sys.stdin.readline(); sys.exit(server.cli.main(sys.argv[1:]))"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Setup:
    data_dir: Path
    port: int
    env: dict[str, str]
    session_id: str
    join_code: str
    projector_key: str
    login_token: str
    step_ids: list[str]
    step_titles: list[str]  # as the templates show them (HTML-escaped)

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def ws(self, audience: str) -> str:
        query = f"?key={self.projector_key}" if audience == "projector" else ""
        return f"ws://127.0.0.1:{self.port}/ws/{self.session_id}/{audience}{query}"

    def title(self, step_id: str) -> str:
        return self.step_titles[self.step_ids.index(step_id)]


def server_env(data_dir: Path, port: int, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOVHOLDER_")}
    env.update(
        TOVHOLDER_DATA_DIR=str(data_dir),
        TOVHOLDER_MODE="dev",
        TOVHOLDER_BASE_URL=f"http://127.0.0.1:{port}",
        TOVHOLDER_LANGUAGE="da",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def prepare(data_dir: Path, port: int | None = None, script: str = SCRIPT, **extra: str) -> Setup:
    """Seed a facilitator, an engagement and a session; runs outside any event loop."""
    port = port or free_port()
    env = server_env(data_dir, port, **extra)
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        from server.settings import from_env
        from server.store.migrate import upgrade

        settings = from_env()
        upgrade(settings.db_url)
        return asyncio.run(_seed(settings, data_dir, port, env, script))
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


async def _seed(settings, data_dir, port, env, script):  # type: ignore[no-untyped-def]
    from server.engine.events import SessionCreated
    from server.web.services import Services

    svc = Services.open(settings)
    try:
        user = await svc.repo.user_by_name(USER) or await svc.repo.add_user(
            USER, PASSWORD, "Bench Facilitator", is_admin=True
        )
        eng = await svc.repo.add_engagement("Bench", "Bench Kommune", {user.id or 0: "facilitator"})
        found_script = svc.catalog.get(script)
        assert found_script is not None, script
        row = await svc.repo.add_session(
            eng.id, script, found_script.title, found_script.language, user.id
        )
        created = SessionCreated(
            at=time.time(),
            session_id=row.id,
            script=found_script.model_dump(mode="json"),
            focus_areas=FOCUS_AREAS,  # the options of the script's polls
        )
        await svc.live.create(row.id, created)
        found = await svc.repo.login(USER, PASSWORD, 24.0)
        assert not isinstance(found, str), found
        token = found[0]
        steps = svc.catalog.get(script).steps  # type: ignore[union-attr]
        return Setup(
            data_dir=data_dir,
            port=port,
            env=env,
            session_id=row.id,
            join_code=row.join_code,
            projector_key=svc.projector_key(row.id),
            login_token=token,
            step_ids=[s.id for s in steps],
            step_titles=[str(escape(s.title)) for s in steps],
        )
    finally:
        await svc.close()


@dataclass
class Server:
    """`tovholder serve` in a subprocess."""

    setup: Setup
    workers: int = 1
    log: Path | None = None
    proc: subprocess.Popen[bytes] | None = None
    extra_env: dict[str, str] = field(default_factory=dict)

    def start(self) -> None:
        self.proc = self.spawn()

    def spawn(self, standby: bool = False) -> subprocess.Popen[bytes]:
        """`tovholder serve`; with `standby`, a process that has imported everything
        and starts serving only when `activate` says so (a restart then costs the
        start-up, not the imports: the fault tests restart 20 times)."""
        args = ["serve", "--port", str(self.setup.port)]
        if self.workers > 1:
            args += ["--workers", str(self.workers)]
        cmd = (
            [sys.executable, "-c", STANDBY, *args]
            if standby
            else [sys.executable, "-m", "server.cli", *args]
        )
        log = open(self.log or os.devnull, "ab")  # noqa: SIM115 (the child holds it)
        proc = subprocess.Popen(
            cmd,
            env={**self.setup.env, **self.extra_env},
            stdin=subprocess.PIPE if standby else subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=str(Path(__file__).resolve().parent.parent),
        )
        log.close()
        return proc

    def activate(self, standby: subprocess.Popen[bytes]) -> None:
        """Make a standby process (see `spawn`) the server."""
        assert standby.stdin is not None
        standby.stdin.write(b"go\n")
        standby.stdin.close()
        self.proc = standby

    async def ready(self, timeout: float = 60.0) -> float:
        """Wait until /healthz answers; returns the time it first did."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"the server exited ({self.proc.returncode}); see {self.log}")
            with contextlib.suppress(OSError, asyncio.TimeoutError):
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection("127.0.0.1", self.setup.port), 1
                )
                writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                head = await asyncio.wait_for(reader.read(64), 2)
                writer.close()
                if b" 200 " in head:
                    return time.time()
            await asyncio.sleep(0.01)
        raise TimeoutError("the server did not start")

    async def started(self, timeout: float = 60.0) -> float:
        """Wait until this process (not another on the same port) has started."""
        assert self.log is not None
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"the server exited ({self.proc.returncode}); see {self.log}")
            with contextlib.suppress(OSError):
                if b"Application startup complete" in self.log.read_bytes():
                    return time.time()
            await asyncio.sleep(0.02)
        raise TimeoutError("the server did not start")

    def pids(self) -> list[int]:
        if self.proc is None:
            return []
        out, todo = [], [self.proc.pid]
        while todo:
            pid = todo.pop()
            out.append(pid)
            with contextlib.suppress(OSError):
                for task in os.listdir(f"/proc/{pid}/task"):
                    with open(f"/proc/{pid}/task/{task}/children") as f:
                        todo += [int(c) for c in f.read().split()]
        return out

    def rss_kib(self, workers_only: bool = False) -> int:
        total = 0
        pids = self.pids()
        if workers_only and len(pids) > 1:
            pids = pids[1:]  # uvicorn's supervisor holds no connections
        for pid in pids:
            with contextlib.suppress(OSError), open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        return total

    def cpu_s(self) -> float:
        """CPU seconds (user + system) the server's processes have used so far:
        a figure the other work on a shared machine does not inflate as it
        does latencies."""
        total = 0
        for pid in self.pids():
            with (
                contextlib.suppress(OSError, IndexError, ValueError),
                open(f"/proc/{pid}/stat") as f,
            ):
                fields = f.read().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / os.sysconf("SC_CLK_TCK")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> None:
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def kill9(self) -> None:
        if self.proc is not None:
            for pid in reversed(self.pids()):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            self.proc.wait()
            self.proc = None


class Screen:
    """The facilitator's laptop or the projector: records what it is sent."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.messages: list[tuple[float, str]] = []
        self.task = asyncio.create_task(self._read())

    @classmethod
    async def open(cls, url: str, cookie: str = "") -> Screen:
        ws = await connect(
            url,
            additional_headers={"Cookie": cookie} if cookie else None,
            max_size=None,
            open_timeout=20,
            ping_interval=None,
            proxy=None,
        )
        return cls(ws)

    async def _read(self) -> None:
        with contextlib.suppress(Exception):
            async for message in self.ws:
                self.messages.append((time.time(), str(message)))

    async def send(self, **message: object) -> float:
        import json

        sent = time.time()
        await self.ws.send(json.dumps(message))
        return sent

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.ws.close()
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self.task


async def facilitator(setup: Setup) -> Screen:
    return await Screen.open(setup.ws("facilitator"), f"tv_login={setup.login_token}")


async def projector(setup: Setup) -> Screen:
    return await Screen.open(setup.ws("projector"))
