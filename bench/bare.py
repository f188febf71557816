"""The ceiling: a bare Starlette + uvicorn broadcast server that does nothing else.

Clients connect to /ws and wait. A message "broadcast:<payload>" from any
client is sent to every other client, one `send_text` after another, the
plain way. /stats says how long the last send loop took. Started with the
same uvicorn options as `tovholder serve` (websockets-sansio, no deflate).
"""

from __future__ import annotations

import argparse
import time

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

clients: set[WebSocket] = set()
last: dict[str, float] = {"send_loop_s": 0.0}


async def endpoint(ws: WebSocket) -> None:
    await ws.accept()
    clients.add(ws)
    try:
        while True:
            text = await ws.receive_text()
            if text.startswith("broadcast:"):
                payload = text[len("broadcast:") :]
                started = time.perf_counter()
                for other in list(clients):
                    if other is not ws:
                        try:
                            await other.send_text(payload)
                        except Exception:
                            continue
                last["send_loop_s"] = time.perf_counter() - started
    except WebSocketDisconnect:
        pass
    finally:
        clients.discard(ws)


async def stats(request: Request) -> JSONResponse:
    return JSONResponse({"clients": len(clients), **last})


app = Starlette(routes=[WebSocketRoute("/ws", endpoint), Route("/stats", stats)])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=args.port,
        ws="websockets-sansio",
        ws_per_message_deflate=False,
        ws_ping_interval=20,
        ws_ping_timeout=20,
        backlog=4096,
        log_level="warning",
    )


if __name__ == "__main__":
    main()
