"""create_app(settings) -> Starlette. The lifespan opens the store and the hub."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.privacy import logs
from server.realtime import quietgc
from server.settings import Settings
from server.web.limits import BodyLimit
from server.web.pages.common import error
from server.web.routes import routes
from server.web.services import Services

log = logging.getLogger(__name__)


def csp(settings: Settings) -> str:
    """The content security policy: nothing inline, and websockets only to this
    service ('self' covers ws/wss of the page's own host in current browsers;
    the base URL's host is named too, for the ones that do not)."""
    hosts = [settings.base_url, *settings.allowed_origins]
    sockets = " ".join(
        sorted({h.replace("https://", "wss://").replace("http://", "ws://") for h in hosts})
    )
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"connect-src 'self' {sockets}; frame-ancestors 'none'; base-uri 'none'; "
        "form-action 'self'; object-src 'none'"
    )


def security_headers(settings: Settings) -> list[tuple[bytes, bytes]]:
    headers = [
        (b"content-security-policy", csp(settings).encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"same-origin"),
        (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
        (b"cross-origin-opener-policy", b"same-origin"),
    ]
    if settings.base_url.startswith("https://"):
        headers.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))
    return headers


class SecurityHeaders:
    """The headers every response carries. Pages are never stored by a browser
    or a proxy (`no-store`: case material, minutes, a shared computer's back
    button); only the static files, named by their content hash, are cached."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.headers = security_headers(settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [*message.get("headers", []), *self.headers]
                if not static and not any(k.lower() == b"cache-control" for k, _ in headers):
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    messages = {404: "That page does not exist.", 405: "That is not possible here."}
    return await error(
        request, status, messages.get(status, "Something went wrong. Please try again.")
    )


async def server_error(request: Request, exc: Exception) -> Response:
    path = logs.redact_path(request.url.path)  # /j/<code>, /h/<token> are secrets
    log.error("unhandled error on %s %s: %s", request.method, path, type(exc).__name__)
    return await error(request, 500, "Something went wrong. Please try again.")


def create_app(settings: Settings, quiet_gc: bool = False) -> Starlette:
    """`quiet_gc`: full garbage collections only at quiet moments
    (server/realtime/quietgc.py); `serve` asks for it, tests do not."""
    logs.install()  # no case text, CPR numbers or link secrets in any log (server/privacy/logs.py)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        services = Services.open(settings)
        app.state.services = services
        collector: asyncio.Task[None] | None = None
        thresholds = None
        if quiet_gc:
            thresholds = quietgc.take_over()
            collector = asyncio.create_task(
                quietgc.QuietCollector(lambda: services.broadcaster.busy_at).run(),
                name="quiet-gc",
            )
        try:
            yield
        finally:
            if collector is not None:
                collector.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await collector
            if thresholds is not None:
                quietgc.give_back(thresholds)
            await services.close()

    return Starlette(
        debug=False,
        routes=routes(settings),
        middleware=[Middleware(SecurityHeaders, settings=settings), Middleware(BodyLimit)],
        exception_handlers={HTTPException: http_error, Exception: server_error},
        lifespan=lifespan,
    )
