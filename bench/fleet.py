"""The client fleet: many phones in one process, driven over stdin/stdout.

Each line on stdin is a JSON command; each reply is one JSON line on stdout.
Times are wall-clock seconds (time.time()), comparable with the driver's.

  {"cmd": "join", "host": h, "port": p, "code": c, "n": 1000, "first": 0}
  {"cmd": "connect", "url": ws_url, "n": 1000}   (n: only without join; reconnects as app.js)
  {"cmd": "arm", "needle": "..."}            then {"cmd": "collect", "timeout": 10}
  {"cmd": "burst", "spread": 2.0, "start_at": t, "run": "b1", "timeout": 30}
  {"cmd": "watch", "needles": ["..."], "run": "b1"}  then {"cmd": "watched", "timeout": 30}
  {"cmd": "status"}   {"cmd": "quit"}
"""

from __future__ import annotations

import asyncio
import gc
import json
import random
import resource
import sys
import time
from typing import Any

from bench.phones import RECONNECT_BASE, Phone, address, form_token, join


def card(i: int, run: str) -> tuple[str, dict[str, Any], str]:
    """The item phone i sends in burst `run`: (id, message, the text the wall shows)."""
    item_id = f"{run}-{i}"
    text = f"Forslag {i} {run}"
    return item_id, {"type": "add_card", "card_id": item_id, "text": text}, text


class Fleet:
    def __init__(self) -> None:
        self.cookies: list[str] = []
        self.phones: list[Phone] = []
        self.first = 0

    async def join(self, host: str, port: int, code: str, n: int, first: int = 0) -> dict[str, Any]:
        started = time.time()
        self.first = first
        gate = asyncio.Semaphore(64)
        cookies: list[str] = [""] * n
        csrf = await form_token(host, port)  # one browser's form token, for every join

        async def one(i: int) -> None:
            async with gate:
                for attempt in range(20):
                    try:
                        cookies[i] = await join(
                            host,
                            port,
                            code,
                            f"Deltager {first + i}",
                            address(first + i + 1),
                            csrf,
                        )
                        return
                    except Exception:
                        await asyncio.sleep(0.1 * (attempt + 1))
                raise RuntimeError(f"phone {first + i} could not join")

        await asyncio.gather(*(one(i) for i in range(n)))
        self.cookies = cookies
        return {"joined": n, "seconds": time.time() - started}

    async def connect(
        self,
        url: str,
        n: int | None = None,
        backoff: float = RECONNECT_BASE,
        timeout: float = 60.0,
    ) -> dict[str, Any]:
        cookies = self.cookies or [""] * (n or 0)
        started = time.time()
        for i, cookie in enumerate(cookies):
            phone = Phone(self.first + i, url, cookie, backoff=backoff)
            self.phones.append(phone)
            phone.start()
            if i % 50 == 49:
                await asyncio.sleep(0)  # let handshakes proceed while more are opened
        deadline = started + timeout
        while time.time() < deadline and sum(p.is_open for p in self.phones) < len(self.phones):
            await asyncio.sleep(0.01)
        return {
            "open": sum(p.is_open for p in self.phones),
            "seconds": time.time() - started,
            "refused": sum(p.refused for p in self.phones),
        }

    def arm(self, needle: str, needle2: str | None = None) -> dict[str, Any]:
        for p in self.phones:
            p.arm(needle, needle2)
        return {"armed": len(self.phones)}

    async def collect(self, timeout: float = 10.0) -> dict[str, Any]:
        deadline = time.time() + timeout
        while time.time() < deadline and any(
            p.hit is None or (p.needle2 is not None and p.hit2 is None) for p in self.phones
        ):
            await asyncio.sleep(0.005)
        hits = [p.hit for p in self.phones if p.hit is not None]
        hits2 = [p.hit2 for p in self.phones if p.hit2 is not None]
        return {"hits": hits, "missing": len(self.phones) - len(hits), "hits2": hits2}

    async def burst(
        self,
        spread: float,
        start_at: float,
        run: str,
        timeout: float = 60.0,
        poll_id: str | None = None,
        payload: Any = None,
    ) -> dict[str, Any]:
        """Each phone sends one item at a random moment in [start_at, start_at + spread]:
        a card, or with `poll_id` a ballot with `payload`."""

        async def one(p: Phone) -> list[Any]:
            await asyncio.sleep(max(0.0, start_at + random.uniform(0, spread) - time.time()))
            message: dict[str, Any]
            if poll_id is None:
                item_id, message, text = card(p.index, run)
            else:
                item_id, text = f"{run}-{p.index}", ""
                message = {
                    "type": "cast_ballot",
                    "poll_id": poll_id,
                    "ballot_id": item_id,
                    "payload": payload,
                }
            await p.submit(item_id, message)
            sent, acked = p.acked[item_id]
            return [p.index, text, sent, acked]

        tasks = [asyncio.create_task(one(p)) for p in self.phones]
        done, pending = await asyncio.wait(tasks, timeout=timeout)
        for task in pending:
            task.cancel()
        results = [t.result() for t in done if not t.exception()]
        return {"items": results, "missing": len(tasks) - len(results)}

    def watch(self, needles: list[str], run: str | None, since: float) -> dict[str, Any]:
        for p in self.phones:
            own = (card(p.index, run)[2],) if run else ()
            p.arm_watch((*needles, *own), since)
        return {"watching": len(self.phones)}

    async def watched(self, timeout: float = 30.0) -> dict[str, Any]:
        deadline = time.time() + timeout
        while time.time() < deadline and any(p.current_at is None for p in self.phones):
            await asyncio.sleep(0.01)
        done = [p for p in self.phones if p.current_at is not None]
        return {
            "opened": [p.opened_at for p in done],
            "current": [p.current_at for p in done],
            "missing": len(self.phones) - len(done),
            "connects": sum(p.connects for p in self.phones),
        }

    def status(self) -> dict[str, Any]:
        return {
            "phones": len(self.phones),
            "open": sum(p.is_open for p in self.phones),
            "refused": sum(p.refused for p in self.phones),
            "pending": sum(len(p.pending) for p in self.phones),
            "rss_kib": int(open("/proc/self/status").read().split("VmRSS:")[1].split()[0]),
        }

    async def quit(self) -> dict[str, Any]:
        await asyncio.gather(*(p.stop() for p in self.phones))
        return {"bye": True}


async def main() -> None:
    # The fleet is a measuring instrument: no collector pauses in its timings
    # (it lives for one run; what cycles it leaves are freed when it exits).
    gc.disable()
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=1 << 24)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    fleet = Fleet()
    while True:
        line = await reader.readline()
        if not line:
            break
        cmd = json.loads(line)
        name = cmd.pop("cmd")
        try:
            result = getattr(fleet, name)(**cmd)
            if asyncio.iscoroutine(result):
                result = await result
        except Exception as exc:  # report, keep serving
            result = {"error": f"{type(exc).__name__}: {exc}"}
        sys.stdout.write(json.dumps(result) + "\n")
        sys.stdout.flush()
        if name == "quit":
            break


if __name__ == "__main__":
    try:
        import uvloop

        uvloop.run(main())
    except ImportError:  # pragma: no cover
        asyncio.run(main())
