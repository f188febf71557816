"""Case text never reaches the logs: a whole case meeting on a real server, every log captured.

uvicorn serves the app on a free port with its access log on; the root
logger is at TRACE (below DEBUG), so every library's debug output is
captured too. A case cover, cards, a decision, a name, hostile messages and
a failed login all carry a marker; afterwards no log record may contain it,
nor the invitation code or the projector's signed key.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
import uvicorn
from websockets.sync.client import connect

from server.app import create_app
from server.engine.events import SessionCreated
from server.privacy.logs import redact_path
from server.settings import Settings, from_env
from server.store.db import create_all, make_engine
from tests.support import PASSWORD

MARK = "XQZ"  # in every piece of case text below, and nowhere else
COVER = f"{MARK} forklæde: mor har misbrug, barnet er 7 år"
CARD = f"{MARK} kort: skolen underrettede for sent"
DECISION = f"{MARK} beslutning: netværksmøde inden 14 dage"
NAME = f"{MARK} Sagsbehandler"
CPR = "120317-4123"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, settings: Settings) -> None:
        from server.cli import uvicorn_options

        self.app = create_app(settings)
        self.port = _free_port()
        options = {**uvicorn_options(settings), "log_level": "trace", "access_log": True}
        config = uvicorn.Config(
            self.app, host="127.0.0.1", port=self.port, log_config=None, **options
        )
        self.server = uvicorn.Server(config)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(
            target=self.loop.run_until_complete, args=(self.server.serve(),), daemon=True
        )

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Server:
        self.thread.start()
        for _ in range(200):
            if self.server.started:
                return self
            time.sleep(0.05)
        raise AssertionError("the server did not start")

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)

    def call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=10)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    settings = from_env({}, mode="test", data_dir=tmp_path, base_url="http://127.0.0.1")

    async def schema() -> None:
        engine = make_engine(settings.db_url)
        await create_all(engine)
        await engine.dispose()

    asyncio.run(schema())
    with Server(settings) as s:
        yield s


def csrf(c: httpx.Client, path: str = "/") -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', c.get(path).text)
    assert found
    return found.group(1)


def ws(server: Server, c: httpx.Client, path: str) -> Any:
    cookie = "; ".join(f"{k}={v}" for k, v in c.cookies.items())
    return connect(
        f"ws://127.0.0.1:{server.port}{path}",
        additional_headers={"Cookie": cookie},
        origin=server.base,  # type: ignore[arg-type]
    )


def drain(conn: Any, seconds: float = 0.3, until: str | None = None) -> list[str]:
    """What arrives within `seconds`; with `until`, up to 20 s for that text to come
    (the wall is rendered after the phones, later still on a loaded machine)."""
    out: list[str] = []
    end = time.monotonic() + (20.0 if until else seconds)
    while time.monotonic() < end:
        try:
            out.append(conn.recv(timeout=0.05))
        except TimeoutError:
            continue
        except Exception:
            break
        if until is not None and until in out[-1]:
            break
    return out


def send(conn: Any, **message: object) -> None:
    conn.send(json.dumps(message))


def test_a_whole_case_meeting_leaves_no_case_text_in_any_log(
    server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    for own in ("websockets.client", "httpx2", "httpcore2"):  # the test's own clients
        caplog.set_level(logging.WARNING, logger=own)
    caplog.set_level(5)  # TRACE, below DEBUG: everything (last: it sets the handler's level)
    svc = server.app.state.services

    async def seed() -> tuple[str, str]:
        user = await svc.repo.add_user("anne", PASSWORD, "Anne", is_admin=True)
        eng = await svc.repo.add_engagement("Varde", "Varde Kommune", {user.id or 0: "facilitator"})
        script = svc.catalog.get("heldagsmoede")
        assert script is not None
        row = await svc.repo.add_session(
            eng.id, script.id, script.title, script.language, user.id, code_length=16
        )
        case = {
            "id": "k1",
            "label": "Sag 1",
            "cover": COVER,
            "summary": COVER,
            "learning_question": f"{MARK} hvornår blev barnet hørt?",
        }
        await svc.live.create(
            row.id,
            SessionCreated(
                at=time.time(),
                session_id=row.id,
                script=script.model_dump(mode="json"),
                cases=(case,),
            ),
        )
        svc.remember(row)
        return row.id, row.join_code

    session_id, code = server.call(seed())
    key = svc.projector_key(session_id)
    with httpx.Client(base_url=server.base) as fac, httpx.Client(base_url=server.base) as phone:
        # A failed login and a wrong code carrying the marker.
        fac.post("/login", data={"username": MARK, "password": MARK, "csrf": csrf(fac)})
        fac.post("/login", data={"username": "anne", "password": PASSWORD, "csrf": csrf(fac)})
        phone.post("/join", data={"code": f"{MARK}123", "name": NAME, "csrf": csrf(phone)})
        # The phone asks at the door; the facilitator lets it in.
        phone.post("/join", data={"code": code, "name": NAME, "csrf": csrf(phone, f"/j/{code}")})
        page = fac.get(f"/facilitator/sessions/{session_id}").text
        token = re.search(r"X-CSRF-Token&#34;: &#34;([^&]+)&#34;", page) or re.search(
            r'"X-CSRF-Token": "([^"]+)"', page
        )
        assert token
        live = server.call(svc.live.get(session_id))
        (pid,) = list(live.state.extra["lobby"])
        r = fac.post(
            f"/facilitator/sessions/{session_id}/lobby",
            data={"participant_id": pid, "decision": "admit"},
            headers={"X-CSRF-Token": token.group(1), "HX-Request": "true"},
        )
        assert r.status_code == 204
        assert phone.get(f"/j/{code}").status_code == 200
        fac.get(f"/projector/{session_id}?key={key}")
        with (
            ws(server, fac, f"/ws/{session_id}/facilitator") as f,
            ws(server, phone, f"/ws/{session_id}/participant") as p,
            ws(server, httpx.Client(), f"/ws/{session_id}/projector?key={key}") as wall,
        ):
            send(f, type="start_session")
            send(f, type="go_to_step", step_id="sager-formiddag")
            shown = "".join(drain(wall, until="forklæde"))
            assert "forklæde" in shown  # the case is on the wall (as text, escaped)
            send(p, type="add_card", card_id="c1", text=CARD)
            send(p, type="add_card", card_id="c2", text=f"{MARK} cpr {CPR}")
            send(p, type="add_card", card_id="<bad id>", text=CARD)  # refused: malformed
            send(p, type="no_such_type", text=CARD)
            p.send(f'{{"type": "add_card", "text": "{MARK}" ')  # broken JSON
            send(f, type="record_decision", decision_id="d1", text=DECISION)
            send(f, type="add_action", action_id="a1", what=DECISION, who=NAME)
            drain(f)
            drain(p)
            send(f, type="end_session")
            drain(f)
            try:
                p.send(json.dumps({"type": "add_card", "card_id": "big", "text": MARK * 30000}))
                drain(p)
            except Exception:
                pass  # closed with 1009, as it should
        assert MARK in fac.get(f"/facilitator/sessions/{session_id}/minutes.md").text
        eng_id = server.call(svc.repo.session(session_id)).engagement_id
        r = fac.post(f"/admin/engagements/{eng_id}/export", data={"csrf": csrf(fac)})
        assert r.status_code == 200
    time.sleep(0.3)  # the last access-log lines

    records = caplog.records
    assert any(r.name == "uvicorn.access" for r in records), "the access log was not captured"
    leaks = []
    for record in records:
        text = record.getMessage() + (record.exc_text or "")
        for secret in (MARK, CPR, code, key):
            if secret in text:
                leaks.append(f"{record.name} {record.levelname}: {text[:300]}")
    assert not leaks, "\n".join(leaks)


def test_access_log_paths_lose_their_secrets() -> None:
    assert redact_path("/projector/abc?key=SIGNED.KEY") == "/projector/abc"
    assert redact_path("/j/ACDEFGHJKMNPQRTU") == "/j/…"
    assert redact_path("/j/ACDEFGHJ/qr.svg") == "/j/…/qr.svg"
    assert redact_path("/h/token-of-consultation/comments") == "/h/…/comments"
    assert redact_path("/facilitator/sessions/abc") == "/facilitator/sessions/abc"


def test_a_cpr_in_any_log_record_is_masked(caplog: pytest.LogCaptureFixture) -> None:
    from server.privacy import logs

    logs.install()
    caplog.set_level(logging.DEBUG)
    log = logging.getLogger("tovholder.test")
    log.warning("note about %s", f"barn {CPR}")
    try:
        raise ValueError(f"bad text {CPR}")
    except ValueError:
        log.exception("failed")
    assert CPR not in caplog.text
    assert "[CPR fjernet]" in caplog.text


def test_link_codes_and_keys_in_any_logger_are_redacted(caplog: pytest.LogCaptureFixture) -> None:
    from server.privacy import logs

    logs.install()
    caplog.set_level(logging.DEBUG)
    log = logging.getLogger("tovholder.test")
    log.error("failed on %s %s", "GET", "/h/consultation-token-123/comments")
    log.error("failed on GET /j/ACDEFGHJKMNPQRTU: ValueError")
    log.error("opened /projector/abc?key=SIGNED.KEY.VALUE&x=1")
    for secret in ("consultation-token-123", "ACDEFGHJKMNPQRTU", "SIGNED.KEY.VALUE"):
        assert secret not in caplog.text
    assert "/h/…/comments" in caplog.text and "/j/…" in caplog.text and "key=…" in caplog.text


def test_an_error_on_a_secret_path_logs_the_path_without_its_secret(
    settings: Settings, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from starlette.testclient import TestClient

    from server.web.pages import participant

    async def broken(request: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(participant, "session_page", broken)  # before the route table is made
    caplog.set_level(logging.ERROR)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        assert client.get("/j/SECRETCODE42").status_code == 500
    assert "SECRETCODE42" not in caplog.text and "/j/…" in caplog.text
