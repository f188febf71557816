"""`python -m bench` (or `make bench`): Tovholder's realtime figures, next to a
bare Starlette + uvicorn broadcast server measured in the same run.

Everything runs on 127.0.0.1. The phones are an asyncio websocket client fleet
in separate processes (bench/fleet.py), offering permessage-deflate as
browsers do; the server keeps it off. Progress goes to stderr; the figures,
as JSON, are the last thing printed on stdout.

Scenarios (see docs/benchmarks.md for the goals and the measured figures):
  fsync      the disk's fsync latency where the database lives
  single     one process, SQLite WAL synchronous=FULL: N phones join and connect
             (memory per idle connection), step changes to all of them, a write
             burst spread over 2 s and one within 0.5 s, a restart (SIGTERM, 1012)
  bare       the ceiling: the same N idle clients, the same message size
  stretch    single with the stretch number of phones (connect, memory, steps)
  scaleout   --workers 4 + Redis, phones spread over the workers, step changes
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.stats import ms, ratio, summary
from bench.tovholder import (
    CARD_STEP,
    DOT_POLL,
    RANK_POLL,
    Screen,
    Server,
    Setup,
    facilitator,
    free_port,
    prepare,
    projector,
)

ROOT = Path(__file__).resolve().parent.parent


def say(*parts: object) -> None:
    print("[bench]", *parts, file=sys.stderr, flush=True)


# -- the fleet processes ---------------------------------------------------------------


class Fleet:
    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc

    @classmethod
    async def start(cls) -> Fleet:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.fleet",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            cwd=str(ROOT),
            limit=1 << 26,
        )
        return cls(proc)

    async def call(self, cmd: str, **args: Any) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write((json.dumps({"cmd": cmd, **args}) + "\n").encode())
        await self.proc.stdin.drain()
        line = await self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the fleet died during {cmd}")
        reply: dict[str, Any] = json.loads(line)
        if "error" in reply:
            raise RuntimeError(f"fleet {cmd}: {reply['error']}")
        return reply

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.call("quit"), 30)
        with contextlib.suppress(ProcessLookupError):
            self.proc.kill()
        await self.proc.wait()


async def all_fleets(fleets: Sequence[Fleet], cmd: str, **args: Any) -> list[dict[str, Any]]:
    return list(await asyncio.gather(*(f.call(cmd, **args) for f in fleets)))


# -- pieces ----------------------------------------------------------------------------


def fsync_latency(folder: Path, rounds: int = 200) -> dict[str, Any]:
    """Append 4 KiB and fsync, as a commit does, `rounds` times."""
    path = folder / "fsync-probe"
    times = []
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        block = os.urandom(4096)
        for _ in range(rounds):
            os.write(fd, block)
            started = time.perf_counter()
            os.fsync(fd)
            times.append(time.perf_counter() - started)
    finally:
        os.close(fd)
        path.unlink()
    return {"folder": str(folder), **summary(times)}


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def latencies(hits: list[dict[str, Any]], t0: float) -> tuple[list[float], int]:
    out: list[float] = []
    missing = 0
    for reply in hits:
        out += [h - t0 for h in reply["hits"]]
        missing += reply["missing"]
    return out, missing


WALL_CARD = re.compile(r"Forslag (\d+) (b\d+)")


def first_on_wall(wall: Screen, since: float) -> dict[str, float]:
    """When each card text first reached the projector."""
    seen: dict[str, float] = {}
    for at, message in wall.messages:
        if at < since:
            continue
        for found in WALL_CARD.finditer(message):
            seen.setdefault(found.group(0), at)
    return seen


async def step_changes(
    setup: Setup, fac: Screen, fleets: Sequence[Fleet], repeats: int, probe: Screen | None
) -> tuple[dict[str, Any], list[int]]:
    pooled: list[float] = []
    private: list[float] = []
    missing = 0
    sizes: list[int] = []
    for k in range(repeats):
        target = setup.step_ids[(k + 1) % len(setup.step_ids)]
        needle = setup.title(target)
        await all_fleets(fleets, "arm", needle=needle, needle2='id="m-me"')
        mark = len(probe.messages) if probe else 0
        t0 = await fac.send(type="go_to_step", step_id=target)
        replies = await all_fleets(fleets, "collect", timeout=15)
        got, lost = latencies(replies, t0)
        pooled += got
        private += [h - t0 for reply in replies for h in reply["hits2"]]
        missing += lost
        if probe is not None:
            sizes += [len(m.encode()) for _, m in probe.messages[mark:] if needle in m]
        await asyncio.sleep(0.3)
    return {
        **summary(pooled),
        "missing": missing,
        "changes": repeats,
        "private_part": summary(private),
    }, sizes


def cpu_ms_per_item(server: Server | None, since: float, items: int) -> float | None:
    """The server's CPU time per item over a burst (its renders included). On a
    shared machine latencies grow with the others' load; this hardly does."""
    if server is None or not items:
        return None
    return round((server.cpu_s() - since) * 1000 / items, 3)


async def burst(
    fleets: Sequence[Fleet], wall: Screen, spread: float, run: str, server: Server | None = None
) -> dict[str, Any]:
    start_at = time.time() + 1.0
    cpu = server.cpu_s() if server else 0.0
    replies = await all_fleets(
        fleets, "burst", spread=spread, start_at=start_at, run=run, timeout=90
    )
    items = [item for reply in replies for item in reply["items"]]
    missing = sum(reply["missing"] for reply in replies)
    await asyncio.sleep(1.0)  # the last renders reach the projector
    cpu_per_item = cpu_ms_per_item(server, cpu, len(items))
    on_wall = first_on_wall(wall, start_at - 1)
    acks = [acked - sent for _, _, sent, acked in items]
    shown = [on_wall[text] - sent for _, text, sent, _ in items if text in on_wall]
    first_sent = min((sent for *_, sent, _ in items), default=0.0)
    last_ack = max((acked for *_, acked in items), default=0.0)
    span = last_ack - first_sent
    return {
        "items": len(items),
        "missing": missing,
        "ack": summary(acks),
        "projector": {**summary(shown), "not_shown": len(items) - len(shown)},
        "span_s": round(span, 3),
        "durable_items_per_s": round(len(items) / span, 1) if span > 0 else None,
        "server_cpu_ms_per_item": cpu_per_item,
    }


WALL_COUNT = re.compile(r'id="p-poll-count"[^>]*>\s*<span class="p-count-n">(\d+)</span>')


def ballots_available() -> bool:
    from server.web.messages import MESSAGES

    return "cast_ballot" in MESSAGES


async def ballot_burst(
    fac: Screen,
    fleets: Sequence[Fleet],
    wall: Screen,
    spread: float,
    run: str,
    poll_id: str,
    payload: Any,
    server: Server | None = None,
) -> dict[str, Any]:
    """Every phone casts one ballot; the projector shows the count of ballots."""
    await fac.send(type="go_to_step", step_id=poll_id)
    await asyncio.sleep(1.0)
    await fac.send(type="open_poll", poll_id=poll_id)
    await asyncio.sleep(1.5)
    start_at = time.time() + 1.0
    cpu = server.cpu_s() if server else 0.0
    replies = await all_fleets(
        fleets,
        "burst",
        spread=spread,
        start_at=start_at,
        run=run,
        timeout=90,
        poll_id=poll_id,
        payload=payload,
    )
    items = [item for reply in replies for item in reply["items"]]
    missing = sum(reply["missing"] for reply in replies)
    await asyncio.sleep(1.0)
    cpu_per_item = cpu_ms_per_item(server, cpu, len(items))
    counts = [
        (at, int(n))
        for at, message in wall.messages
        if at >= start_at - 1
        for n in WALL_COUNT.findall(message)
    ]
    # The k-th ballot acknowledged is on the wall once the wall counts k.
    shown = []
    for k, (_, _, sent, _) in enumerate(sorted(items, key=lambda item: item[3]), start=1):
        at = next((at for at, n in counts if n >= k), None)
        if at is not None:
            shown.append(at - sent)
    acks = [acked - sent for _, _, sent, acked in items]
    first_sent = min((sent for *_, sent, _ in items), default=0.0)
    last_ack = max((acked for *_, acked in items), default=0.0)
    span = last_ack - first_sent
    return {
        "ballots": len(items),
        "missing": missing,
        "ack": summary(acks),
        "projector_count": {**summary(shown), "not_shown": len(items) - len(shown)},
        "final_count_on_wall": counts[-1][1] if counts else None,
        "span_s": round(span, 3),
        "durable_ballots_per_s": round(len(items) / span, 1) if span > 0 else None,
        "server_cpu_ms_per_item": cpu_per_item,
    }


async def check_log(setup: Setup, runs: Sequence[str], phones: int) -> dict[str, Any]:
    """Every card the phones sent is in the log exactly once (each was acknowledged)."""
    from server.engine.events import CardAdded
    from server.store.db import make_engine
    from server.store.eventlog import EventLog

    url = (
        setup.env.get("TOVHOLDER_DATABASE_URL")
        or f"sqlite+aiosqlite:///{setup.data_dir / 'tovholder.db'}"
    )
    engine = make_engine(url)
    try:
        events = await EventLog(engine).load(setup.session_id)
    finally:
        await engine.dispose()
    ids = [e.card_id for e in events if isinstance(e, CardAdded)]
    wanted = {f"{run}-{i}" for run in runs for i in range(phones)}
    return {
        "cards_in_log": len(ids),
        "each_acked_card_once": set(ids) == wanted and len(ids) == len(set(ids)),
    }


# -- scenarios -------------------------------------------------------------------------


async def single(
    work: Path, phones: int, repeats: int, full: bool, fleets_n: int = 1
) -> dict[str, Any]:
    work.mkdir(parents=True, exist_ok=True)
    """One Tovholder process: connect, memory, step changes; bursts and a restart if `full`."""
    setup = await asyncio.to_thread(prepare, work)
    server = Server(setup, log=work / "server.log")
    server.start()
    await server.ready()
    out: dict[str, Any] = {"phones": phones}
    fleets: list[Fleet] = []
    screens: list[Screen] = []
    try:
        fac = await facilitator(setup)
        wall = await projector(setup)
        screens += [fac, wall]
        await fac.send(type="start_session")
        await asyncio.sleep(1.0)
        rss_before = server.rss_kib()
        fleets = [await Fleet.start() for _ in range(fleets_n)]
        share = phones // fleets_n
        started = time.time()
        await asyncio.gather(
            *(
                f.call(
                    "join",
                    host="127.0.0.1",
                    port=setup.port,
                    code=setup.join_code,
                    n=share,
                    first=i * share,
                )
                for i, f in enumerate(fleets)
            )
        )
        out["join_s"] = round(time.time() - started, 2)
        say(f"{phones} phones joined in {out['join_s']} s")
        started = time.time()
        opened = await all_fleets(fleets, "connect", url=setup.ws("participant"))
        out["connect_s"] = round(time.time() - started, 2)
        out["connected"] = sum(r["open"] for r in opened)
        # a probe phone in this process, to see the messages themselves
        from bench.phones import join as join_http

        cookie = await join_http("127.0.0.1", setup.port, setup.join_code, "Probe", "10.255.0.1")
        probe = await Screen.open(setup.ws("participant"), cookie)
        screens.append(probe)
        await asyncio.sleep(3.0)  # presence updates settle
        rss_after = server.rss_kib()
        out["rss_kib"] = {"before": rss_before, "after": rss_after}
        out["memory_per_connection_kib"] = round((rss_after - rss_before) / (phones + 1), 1)
        out["snapshot_bytes"] = len(probe.messages[0][1].encode()) if probe.messages else None
        say(
            f"{out['connected']} connected in {out['connect_s']} s; {out['memory_per_connection_kib']} KiB each"
        )
        cpu = server.cpu_s()
        steps, sizes = await step_changes(setup, fac, fleets, repeats, probe)
        steps["server_cpu_ms_per_change"] = round((server.cpu_s() - cpu) * 1000 / repeats, 1)
        out["step_change"] = steps
        out["step_message_bytes"] = int(statistics.median(sizes)) if sizes else None
        say(f"step change to all: p50 {steps['p50_ms']} ms, p99 {steps['p99_ms']} ms")
        if not full:
            return out
        await fac.send(type="go_to_step", step_id=CARD_STEP)
        await asyncio.sleep(1.5)
        out["burst_spread_2s"] = await burst(fleets, wall, 2.0, "b1", server)
        say("burst over 2 s:", json.dumps(out["burst_spread_2s"]))
        await asyncio.sleep(2.0)
        out["burst_within_0_5s"] = await burst(fleets, wall, 0.5, "b2", server)
        say("burst within 0.5 s:", json.dumps(out["burst_within_0_5s"]))
        await asyncio.sleep(2.0)
        if ballots_available():
            dots = {"fa1": 3, "fa2": 2}
            out["ballots_spread_2s"] = await ballot_burst(
                fac, fleets, wall, 2.0, "v1", DOT_POLL, dots, server
            )
            say("ballots over 2 s:", json.dumps(out["ballots_spread_2s"]))
            await asyncio.sleep(2.0)
            order = ["fa2", "fa1", "fa3"]
            out["ballots_within_0_5s"] = await ballot_burst(
                fac, fleets, wall, 0.5, "v2", RANK_POLL, order, server
            )
            say("ballots within 0.5 s:", json.dumps(out["ballots_within_0_5s"]))
            await fac.send(type="go_to_step", step_id=CARD_STEP)
            await asyncio.sleep(2.0)
        out["restart"], server = await restart(setup, server, fleets, screens, rolling=False)
        say("restart:", json.dumps(out["restart"]))
        await asyncio.sleep(2.0)
        out["rolling_restart"], server = await restart(setup, server, fleets, screens, rolling=True)
        say("rolling restart:", json.dumps(out["rolling_restart"]))
        out["log"] = await check_log(setup, ["b1", "b2"], phones)
        return out
    finally:
        for screen in screens:
            await screen.close()
        for fleet in fleets:
            await fleet.close()
        await asyncio.to_thread(server.stop)


async def restart(
    setup: Setup, server: Server, fleets: Sequence[Fleet], screens: list[Screen], rolling: bool
) -> tuple[dict[str, Any], Server]:
    """A restart, and every phone back with the current step and its own cards.

    Cold: SIGTERM (every socket closed with 1012), then a new process: the phones
    retry as the browser client does (static/js/app.js) while nobody listens. Rolling: the new process
    starts first on the same port (SO_REUSEPORT), then the old one gets SIGTERM.
    """
    for screen in screens:
        await screen.close()
    screens.clear()
    since = time.time()
    await all_fleets(fleets, "watch", needles=[setup.title(CARD_STEP)], run="b2", since=since)
    work = server.log.parent if server.log else setup.data_dir
    fresh = Server(setup, log=work / f"server-{int(since)}.log")
    stop_at = time.time()
    if rolling:
        spawn_at = time.time()
        fresh.start()
        up_at = await fresh.started()
        stop_at = time.time()
        await asyncio.to_thread(server.stop)
        down_at = time.time()
    else:
        await asyncio.to_thread(server.stop)
        down_at = spawn_at = time.time()
        fresh.start()
        up_at = await fresh.started()
    replies = await all_fleets(fleets, "watched", timeout=120)
    current = [c for r in replies for c in r["current"]]
    opened = [o for r in replies for o in r["opened"]]
    return {
        "kind": "rolling" if rolling else "cold",
        "stop_s": round(down_at - stop_at, 2),
        "start_s": round(up_at - spawn_at, 2),
        "from_stop": summary([c - stop_at for c in current]),
        "from_listening": summary([c - max(up_at, stop_at) for c in current]),
        "after_reconnect": summary([c - o for c, o in zip(current, opened, strict=True)]),
        "missing": sum(r["missing"] for r in replies),
        "connects": sum(r["connects"] for r in replies),
    }, fresh


async def bare(phones: int, repeats: int, size: int) -> dict[str, Any]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.bare", "--port", str(port)], cwd=str(ROOT)
    )
    fleet: Fleet | None = None
    trigger = None
    try:
        await wait_port(port)
        await asyncio.sleep(0.5)
        rss_before = rss_kib(proc.pid)
        fleet = await Fleet.start()
        started = time.time()
        opened = await fleet.call("connect", url=f"ws://127.0.0.1:{port}/ws", n=phones)
        connect_s = time.time() - started
        await asyncio.sleep(3.0)
        rss_after = rss_kib(proc.pid)
        trigger = await Screen.open(f"ws://127.0.0.1:{port}/ws")
        pooled: list[float] = []
        loops: list[float] = []
        missing = 0
        for k in range(repeats):
            marker = f"m{k}-{secrets.token_hex(4)}"
            await fleet.call("arm", needle=marker)
            payload = marker + " " + "x" * max(0, size - len(marker) - 1)
            t0 = await trigger_send(trigger, "broadcast:" + payload)
            got, lost = latencies([await fleet.call("collect", timeout=15)], t0)
            pooled += got
            missing += lost
            loops.append(await bare_loop(port))
            await asyncio.sleep(0.3)
        return {
            "phones": phones,
            "connected": opened["open"],
            "connect_s": round(connect_s, 2),
            "memory_per_connection_kib": round((rss_after - rss_before) / phones, 1),
            "message_bytes": size,
            "broadcast": {**summary(pooled), "missing": missing},
            "send_loop_ms": ms(statistics.median(loops)) if loops else None,
        }
    finally:
        if trigger is not None:
            await trigger.close()
        if fleet is not None:
            await fleet.close()
        proc.terminate()
        proc.wait(10)


async def trigger_send(screen: Screen, text: str) -> float:
    sent = time.time()
    await screen.ws.send(text)
    return sent


async def bare_loop(port: int) -> float:
    from bench.phones import http

    _, _, body = await http("127.0.0.1", port, "GET", "/stats")
    return float(json.loads(body)["send_loop_s"])


async def wait_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        with contextlib.suppress(OSError):
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        await asyncio.sleep(0.05)
    raise TimeoutError(f"nothing listens on {port}")


@contextlib.contextmanager
def redis_server(work: Path):  # type: ignore[no-untyped-def]
    url = os.environ.get("TOVHOLDER_BENCH_REDIS_URL") or os.environ.get("TOVHOLDER_TEST_REDIS_URL")
    if url:
        yield url
        return
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError(
            "scale-out needs Redis: install redis-server or set TOVHOLDER_BENCH_REDIS_URL"
        )
    port = free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        cwd=str(work),
    )
    try:
        deadline = time.time() + 10
        while time.time() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                break
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)


async def scaleout(
    work: Path, workers: int, phones: int, repeats: int, fleets_n: int
) -> dict[str, Any]:
    work.mkdir(parents=True, exist_ok=True)
    with redis_server(work) as url:
        setup = await asyncio.to_thread(
            prepare, work, None, TOVHOLDER_REALTIME="redis", TOVHOLDER_REDIS_URL=url
        )
        server = Server(setup, workers=workers, log=work / "server.log")
        server.start()
        await server.ready()
        await asyncio.sleep(2.0)  # every worker up
        fleets: list[Fleet] = []
        screens: list[Screen] = []
        out: dict[str, Any] = {"workers": workers, "phones": phones, "backend": "redis"}
        try:
            fac = await facilitator(setup)
            screens.append(fac)
            await fac.send(type="start_session")
            await asyncio.sleep(1.0)
            rss_before = server.rss_kib(workers_only=True)
            fleets = [await Fleet.start() for _ in range(fleets_n)]
            share = phones // fleets_n
            started = time.time()
            await asyncio.gather(
                *(
                    f.call(
                        "join",
                        host="127.0.0.1",
                        port=setup.port,
                        code=setup.join_code,
                        n=share,
                        first=i * share,
                    )
                    for i, f in enumerate(fleets)
                )
            )
            out["join_s"] = round(time.time() - started, 2)
            started = time.time()
            opened = await all_fleets(fleets, "connect", url=setup.ws("participant"), timeout=120)
            out["connect_s"] = round(time.time() - started, 2)
            out["connected"] = sum(r["open"] for r in opened)
            await asyncio.sleep(3.0)
            out["memory_per_connection_kib"] = round(
                (server.rss_kib(workers_only=True) - rss_before) / phones, 1
            )
            say(
                f"scale-out: {out['connected']} connected over {workers} workers in {out['connect_s']} s"
            )
            steps, _ = await step_changes(setup, fac, fleets, repeats, None)
            out["step_change"] = steps
            say(f"scale-out step change: p50 {steps['p50_ms']} ms, p99 {steps['p99_ms']} ms")
            return out
        finally:
            for screen in screens:
                await screen.close()
            for fleet in fleets:
                await fleet.close()
            await asyncio.to_thread(server.stop)


def machine() -> dict[str, Any]:
    import uvicorn
    import websockets

    mem = (
        subprocess.run(["free", "-h"], capture_output=True, text=True).stdout.split("\n")[1].split()
    )
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "cpus": os.cpu_count(),
        "memory": mem[1] if len(mem) > 1 else None,
        "cpu": next(
            (
                line.split(":", 1)[1].strip()
                for line in open("/proc/cpuinfo")
                if line.startswith("model name")
            ),
            platform.processor(),
        ),
        "python": platform.python_version(),
        "uvicorn": uvicorn.__version__,
        "websockets": websockets.__version__,
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    base = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="tovholder-bench-"))
    base.mkdir(parents=True, exist_ok=True)
    figures: dict[str, Any] = {"machine": machine()}
    figures["fsync"] = fsync_latency(base)
    say("fsync:", json.dumps(figures["fsync"]))
    if "single" in args.only:
        say(f"single process, {args.phones} phones")
        figures["single"] = await guarded(
            single(base / "single", args.phones, args.repeats, full=True)
        )
    if "bare" in args.only:
        size = (figures.get("single") or {}).get("step_message_bytes") or 1500
        say(f"bare Starlette + uvicorn, {args.phones} clients, {size}-byte messages")
        figures["bare"] = await guarded(bare(args.phones, args.repeats, size))
        say("bare:", json.dumps(figures["bare"]))
    if "stretch" in args.only and args.stretch:
        say(f"stretch: {args.stretch} phones")
        figures["stretch"] = await guarded(
            single(
                base / "stretch", args.stretch, max(3, args.repeats // 2), full=False, fleets_n=2
            )
        )
    if "scaleout" in args.only and args.scale_phones:
        say(f"scale-out: {args.workers} workers + Redis, {args.scale_phones} phones")
        figures["scaleout"] = await guarded(
            scaleout(base / "scaleout", args.workers, args.scale_phones, args.repeats, 2)
        )
    figures["vs_bare"] = compare(figures)
    if not args.dir:
        shutil.rmtree(base, ignore_errors=True)
    return figures


async def guarded(scenario: Any) -> dict[str, Any]:
    """A scenario's figures, or what went wrong (the other scenarios still run)."""
    try:
        result: dict[str, Any] = await scenario
        return result
    except Exception as exc:
        say(f"scenario failed: {type(exc).__name__}: {exc}")
        return {"error": f"{type(exc).__name__}: {exc}"}


def compare(f: dict[str, Any]) -> dict[str, Any]:
    s, b = f.get("single") or {}, f.get("bare") or {}
    if "step_change" not in s or "broadcast" not in b:
        return {}
    return {
        "step_change_p50": ratio(s["step_change"]["p50_ms"], b["broadcast"]["p50_ms"]),
        "step_change_p99": ratio(s["step_change"]["p99_ms"], b["broadcast"]["p99_ms"]),
        "memory_per_connection": ratio(
            s["memory_per_connection_kib"], b["memory_per_connection_kib"]
        ),
    }


def main() -> None:
    p = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--phones", type=int, default=1000)
    p.add_argument("--stretch", type=int, default=2000, help="0 to skip")
    p.add_argument("--workers", type=int, default=4)
    p.add_argument("--scale-phones", type=int, default=4000, help="0 to skip")
    p.add_argument("--repeats", type=int, default=10, help="step changes / broadcasts per scenario")
    p.add_argument("--only", nargs="*", default=["single", "bare", "stretch", "scaleout"])
    p.add_argument("--dir", default="", help="keep data and server logs here")
    args = p.parse_args()
    # The driver is a measuring instrument too (it timestamps what the projector
    # and the facilitator receive, and keeps all of it): no collector pauses in
    # its timings, as in the fleet. A run is finite; its cycles go when it exits.
    gc.disable()
    figures = asyncio.run(run(args))
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
