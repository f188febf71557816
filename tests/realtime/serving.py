"""A real uvicorn server in the test's event loop (real sockets, the same
protocol options as `tovholder serve`), with a seeded live session."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
from websockets.asyncio.client import ClientConnection, connect

from server.app import create_app
from server.cli import uvicorn_options
from server.engine import Actor, ActorRole
from server.engine import commands as c
from server.realtime.backends import Backend
from server.settings import from_env
from server.store.db import create_all, make_engine
from server.web import services as services_module
from server.web.services import Services
from tests.realtime.workers import CARD_STEP, FAC, SCRIPT


@dataclass
class Running:
    server: uvicorn.Server
    port: int
    services: Services
    session_id: str

    def url(self, audience: str = "participant") -> str:
        query = (
            f"?key={self.services.projector_key(self.session_id)}"
            if audience == "projector"
            else ""
        )
        return f"ws://127.0.0.1:{self.port}/ws/{self.session_id}/{audience}{query}"

    def cookie(self, pid: str) -> str:
        return f"tv_p_{self.session_id}={self.services.participant_token(self.session_id, pid)}"

    async def phone(self, pid: str, **kwargs: Any) -> ClientConnection:
        """A phone as a browser connects: offering permessage-deflate."""
        return await connect(
            self.url(),
            additional_headers={"Cookie": self.cookie(pid)},
            compression="deflate",
            max_size=None,
            open_timeout=10,
            proxy=None,
            **kwargs,
        )

    async def projector(self) -> ClientConnection:
        return await connect(self.url("projector"), max_size=None, open_timeout=10, proxy=None)

    async def command(self, command: Any) -> Any:
        live = await self.services.live.get(self.session_id)
        assert live is not None
        return await live.submit(command)

    def count(self, audience: str | None = None) -> int:
        return self.services.hub.count(self.session_id, audience)


@contextlib.asynccontextmanager
async def serve(
    data_dir: Path,
    *,
    database_url: str = "",
    backend: Backend | None = None,
    session_id: str | None = None,
    **overrides: Any,
) -> AsyncIterator[uvicorn.Server]:
    settings = from_env(
        {},
        mode="test",
        data_dir=data_dir,
        base_url="http://127.0.0.1",
        database_url=database_url,
        **overrides,
    )
    engine = make_engine(settings.db_url)
    await create_all(engine)
    await engine.dispose()
    options = {**uvicorn_options(settings), "log_level": "warning"}
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=0, **options)
    server = uvicorn.Server(config)
    original = services_module.make_backend
    if backend is not None:
        services_module.make_backend = lambda *a, **k: backend  # type: ignore[assignment]
    task = asyncio.create_task(server.serve(sockets=None))
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
    finally:
        services_module.make_backend = original
    try:
        yield server
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 15)


def port_of(server: uvicorn.Server) -> int:
    return int(server.servers[0].sockets[0].getsockname()[1])


def services_of(server: uvicorn.Server) -> Services:
    app: Any = server.config.loaded_app
    while not hasattr(app, "state"):
        app = app.app
    svc: Services = app.state.services
    return svc


async def seed(svc: Services, phones: int, *, card_step: bool = True) -> str:
    user = await svc.repo.add_user("anne", "correct-horse-battery", "Anne")
    eng = await svc.repo.add_engagement("Varde", "Varde Kommune", {user.id or 0: "facilitator"})
    row = await svc.create_session(eng.id, SCRIPT, user)
    live = await svc.live.get(row.id)
    assert live is not None
    for i in range(phones):
        out = await live.submit(c.Join(actor=Actor(ActorRole.PARTICIPANT, f"p{i}"), name=f"P{i}"))
        assert isinstance(out, list), out
    if card_step:
        for cmd in (c.StartSession(actor=FAC), c.GoToStep(actor=FAC, step_id=CARD_STEP)):
            out = await live.submit(cmd)
            assert isinstance(out, list), out
    return row.id


@contextlib.asynccontextmanager
async def running(data_dir: Path, phones: int = 0, **overrides: Any) -> AsyncIterator[Running]:
    async with serve(data_dir, **overrides) as server:
        svc = services_of(server)
        sid = await seed(svc, phones)
        yield Running(server, port_of(server), svc, sid)


async def raw_phone(run: Running, pid: str, rcvbuf: int = 4096) -> socket.socket:
    """A phone that completes the handshake and then never reads or answers again
    (a phone that froze, or left the wifi without closing)."""
    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.setblocking(False)
    await loop.sock_connect(sock, ("127.0.0.1", run.port))
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET /ws/{run.session_id}/participant HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{run.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        f"Cookie: {run.cookie(pid)}\r\n\r\n"
    )
    await loop.sock_sendall(sock, request.encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = await asyncio.wait_for(loop.sock_recv(sock, 1), 5)
        assert chunk, head
        head += chunk
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock
