"""A phone as the benchmark and the load tests drive it.

It joins over HTTP like a browser (double-submit CSRF; a forwarded address of
its own, as phones behind a proxy have), connects offering permessage-deflate
as browsers do, reconnects after 1006/1011/1012/1013 exactly as the browser
client does (static/js/app.js: full jitter, capped), and resends every item that was not acknowledged, with the same
client-made id, once it is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

RECONNECT_CODES = frozenset({1006, 1011, 1012, 1013})  # what htmx's ws extension retries
# static/js/app.js's `reconnectDelay`, which the browsers run (htmx's ws extension
# calls it): full jitter over a window that doubles per failed try and stops
# growing at the cap. tests/realtime/test_reconnect_policy.py keeps the two equal.
RECONNECT_BASE = 1.0  # seconds (RECONNECT_BASE_MS in app.js)
RECONNECT_CAP = 3.0  # seconds (RECONNECT_CAP_MS in app.js)
HTMX_BASE = RECONNECT_BASE
ACK_MARKS = ("flash-ok", "flash-warning")


def full_jitter(retry: int, base: float = RECONNECT_BASE, cap: float = RECONNECT_CAP) -> float:
    """How long a browser waits before try `retry` + 1 (`retry` failed tries since
    the socket was last open; htmx resets the count when a socket opens)."""
    return random.random() * min(cap, base * 2 ** min(retry, 6))


# -- a little HTTP, enough to join -----------------------------------------------------


async def http(
    host: str,
    port: int,
    method: str,
    path: str,
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    timeout: float = 30.0,
) -> tuple[int, list[tuple[str, str]], bytes]:
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    try:
        lines = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}", "Connection: close"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        if body:
            lines.append(f"Content-Length: {len(body)}")
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        raw = await asyncio.wait_for(reader.read(), timeout)
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()
    head, _, content = raw.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    status = int(status_line.split()[1])
    parsed = [
        (k.strip().lower(), v.strip()) for k, _, v in (h.partition(":") for h in header_lines)
    ]
    return status, parsed, content


async def form_token(host: str, port: int) -> tuple[str, str]:
    """(the CSRF cookie, the form's token), as a browser gets them with the front page."""
    _, headers, body = await http(host, port, "GET", "/")
    cookie = next(
        v.split(";", 1)[0] for k, v in headers if k == "set-cookie" and "csrf=" in v.split(";")[0]
    )
    found = re.search(rb'name="csrf" value="([^"]+)"', body)
    if found is None:
        raise RuntimeError("the front page has no form token")
    return cookie, found.group(1).decode()


async def join(
    host: str,
    port: int,
    code: str,
    name: str,
    address: str,
    csrf: tuple[str, str] | None = None,
) -> str:
    """Join the session with `code`; returns the participant cookie ("tv_p_<sid>=...").
    `csrf`: a pair from `form_token`, which many joins may share (else fetched)."""
    cookie, token = csrf or await form_token(host, port)
    status, headers, body = await http(
        host,
        port,
        "POST",
        "/join",
        {
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": cookie,
            "X-Forwarded-For": address,
        },
        urlencode({"code": code, "name": name, "csrf": token}).encode(),
    )
    for key, value in headers:
        if key == "set-cookie" and value.startswith("tv_p_"):
            return value.split(";", 1)[0]
    raise RuntimeError(f"join failed: {status} {body[:300]!r}")


def address(i: int) -> str:
    """A distinct private address per phone (the join throttle counts per address)."""
    return f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"


# -- the phone -----------------------------------------------------------------------


@dataclass(eq=False)
class Item:
    id: str
    raw: str
    sent_at: float
    future: asyncio.Future[float]
    errors: int = 0


@dataclass(eq=False)
class Phone:
    index: int
    url: str
    cookie: str = ""
    backoff: float = HTMX_BASE
    stopped: bool = False
    ws: ClientConnection | None = None
    connects: int = 0
    retries: int = 0
    last_close: int | None = None
    opened_at: float = 0.0
    # observations ------------------------------------------------------------------
    needle: str | None = None
    hit: float | None = None
    needle2: str | None = None  # a second thing to wait for (the private part)
    hit2: float | None = None
    watch: tuple[str, ...] = ()
    watch_since: float = 0.0
    current_at: float | None = None
    refused: int = 0
    pending: list[Item] = field(default_factory=list)
    acked: dict[str, tuple[float, float]] = field(default_factory=dict)  # id -> (sent, acked)
    on_message: Callable[[str, float], None] | None = None
    task: asyncio.Task[None] | None = None
    _sending: set[asyncio.Future[None]] = field(default_factory=set)

    def start(self) -> None:
        self.task = asyncio.create_task(self.run())

    async def stop(self) -> None:
        self.stopped = True
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await self.ws.close()
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.task

    @property
    def is_open(self) -> bool:
        return self.ws is not None

    async def run(self) -> None:
        while not self.stopped:
            code = 1006
            try:
                async with connect(
                    self.url,
                    # Its own address, as for joining: the server bounds sockets per address.
                    additional_headers={
                        "X-Forwarded-For": address(self.index),
                        **({"Cookie": self.cookie} if self.cookie else {}),
                    },
                    compression="deflate",  # offered, as browsers do
                    max_size=None,
                    open_timeout=20,
                    close_timeout=2,
                    ping_interval=None,  # browsers do not ping; the server does
                    proxy=None,
                ) as ws:
                    self.ws = ws
                    self.opened_at = time.time()
                    self.connects += 1
                    self.retries = 0
                    for item in list(self.pending):  # what was never acknowledged
                        await ws.send(item.raw)
                    try:
                        async for message in ws:
                            self._on(str(message))
                    except ConnectionClosed:
                        pass
                    code = ws.close_code or 1006
            except InvalidStatus as exc:
                code = 1006 if exc.response.status_code >= 500 else 1008
            except (OSError, InvalidHandshake, ConnectionClosed, TimeoutError, EOFError):
                code = 1006
            self.ws = None
            self.last_close = code
            if self.stopped:
                return
            if code not in RECONNECT_CODES:
                self.refused += 1
                return
            await asyncio.sleep(full_jitter(self.retries, self.backoff))
            self.retries += 1

    def _on(self, message: str) -> None:
        now = time.time()
        if self.on_message is not None:
            self.on_message(message, now)
        if self.needle is not None and self.hit is None and self.needle in message:
            self.hit = now
        if self.needle2 is not None and self.hit2 is None and self.needle2 in message:
            self.hit2 = now
        if (
            self.watch
            and self.current_at is None
            and self.opened_at >= self.watch_since
            and all(n in message for n in self.watch)
        ):
            self.current_at = now
        if 'id="flash"' in message and self.pending:
            item = self.pending[0]
            if any(mark in message for mark in ACK_MARKS):
                self.pending.pop(0)
                self.acked[item.id] = (item.sent_at, now)
                if not item.future.done():
                    item.future.set_result(now)
            elif "flash-error" in message:
                # busy, or the server could not write: send the same item again soon
                item.errors += 1
                asyncio.get_running_loop().call_later(0.2 * item.errors, self._resend, item)

    def _resend(self, item: Item) -> None:
        if item in self.pending and self.ws is not None:
            task = asyncio.ensure_future(self._send(item.raw))
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)

    async def _send(self, raw: str) -> None:
        ws = self.ws
        if ws is not None:
            with contextlib.suppress(ConnectionClosed, RuntimeError):
                await ws.send(raw)

    async def submit(self, item_id: str, message: dict[str, Any]) -> float:
        """Send an item; returns when it is acknowledged (resent after reconnects)."""
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        raw = json.dumps(message)
        item = Item(item_id, raw, time.time(), future)
        self.pending.append(item)
        if len(self.pending) == 1:
            await self._send(raw)
        return await future

    def arm(self, needle: str, needle2: str | None = None) -> None:
        self.needle, self.hit = needle, None
        self.needle2, self.hit2 = needle2, None

    def arm_watch(self, needles: tuple[str, ...], since: float) -> None:
        self.watch, self.watch_since, self.current_at = needles, since, None
