"""Security headers on every response, a CSP without inline script, and templates that need none."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from tests.support import World

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def test_every_kind_of_response_carries_the_headers(world: World) -> None:
    session_id, code = world.create_session("opstartsworkshop")
    for path in (
        "/",
        "/login",
        f"/j/{code}",
        "/facilitator",
        f"/facilitator/sessions/{session_id}",
        "/nope",
        "/static/css/app.css",
        f"/j/{code}/qr.svg",
    ):
        r = world.fac.get(path)
        h = r.headers
        assert h["x-content-type-options"] == "nosniff", path
        assert h["x-frame-options"] == "DENY", path
        assert h["referrer-policy"] == "same-origin", path
        csp = h["content-security-policy"]
        directives = dict(d.strip().split(" ", 1) for d in csp.split(";") if d.strip())
        assert directives["script-src"] == "'self'", path
        assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, path


@pytest.mark.parametrize(
    "template", sorted(p.relative_to(TEMPLATES).as_posix() for p in TEMPLATES.rglob("*.html"))
)
def test_templates_have_no_inline_script_or_handlers(template: str) -> None:
    if template.startswith("minutes/"):
        return  # rendered to PDF by WeasyPrint, never served to a browser
    text = (TEMPLATES / template).read_text(encoding="utf-8")
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), "inline <script>"
    assert not re.search(r"\son[a-z]+\s*=", text), "inline event handler"
    assert "javascript:" not in text.lower()
    assert "hx-on" not in text, "htmx inline handlers need eval"
    assert not re.search(r"\|\s*safe\b", text) or template in SAFE_OK, "|safe on a template value"


SAFE_OK = {"participant/session.html"}  # private_html: rendered by the app from its own template

INLINE_STYLE = re.compile(
    r"""<[a-zA-Z][^>]*\sstyle\s*=|setAttribute\(\s*["']style|\.style\.cssText"""
)


@pytest.mark.parametrize(
    "template", sorted(p.relative_to(TEMPLATES).as_posix() for p in TEMPLATES.rglob("*.html"))
)
def test_templates_have_no_inline_style(template: str) -> None:
    """style-src 'self': a style attribute is refused, with an error in the console.
    Also the minutes' templates (WeasyPrint would take it, but one rule for all)."""
    text = (TEMPLATES / template).read_text(encoding="utf-8")
    assert not INLINE_STYLE.search(text), "inline style attribute: use a class"


def test_scripts_set_no_style_attribute() -> None:
    """CSSOM (el.style.width = ...) is allowed by the CSP; a style attribute is not."""
    for script in (TEMPLATES.parent / "static" / "js").rglob("*.js"):
        text = script.read_text(encoding="utf-8")
        assert not INLINE_STYLE.search(text), script.name
        assert "<style" not in text, script.name


def test_pages_render_no_inline_style(world: World) -> None:
    session_id, code = world.create_session("opstartsworkshop")
    pages = ["/", "/login", f"/j/{code}", "/facilitator", f"/facilitator/sessions/{session_id}"]
    for path in pages:
        html = world.fac.get(path).text
        assert not re.search(r"<[a-zA-Z][^>]*\sstyle\s*=", html), path
        assert "<style" not in html, path


def test_htmx_may_not_eval(client: TestClient) -> None:
    page = client.get("/").text
    assert '"allowEval": false' in page and '"selfRequestsOnly": true' in page


def test_cookies_are_httponly_and_samesite(
    world: World, new_browser: Callable[[], TestClient]
) -> None:
    c = new_browser()
    header = c.get("/").headers["set-cookie"]
    assert header.startswith("tv_csrf=") and "httponly" in header.lower()
    assert "samesite=strict" in header.lower()
    _, code = world.create_session("opstartsworkshop")
    token = re.search(r'name="csrf" value="([^"]+)"', c.get(f"/j/{code}").text)
    assert token
    r = c.post("/join", data={"code": code, "csrf": token.group(1)}, follow_redirects=False)
    participant = next(v for v in r.headers.get_list("set-cookie") if v.startswith("tv_p_"))
    assert "httponly" in participant.lower() and "samesite=lax" in participant.lower()


def test_websocket_origin_is_checked(world: World) -> None:
    session_id, _ = world.create_session("opstartsworkshop")
    for origin in ("https://evil.example", "null", "http://testserver.evil.example"):
        with (
            pytest.raises(WebSocketDisconnect) as closed,
            world.fac.websocket_connect(
                f"/ws/{session_id}/facilitator", headers={"origin": origin}
            ) as ws,
        ):
            ws.receive_text()
        assert closed.value.code == 1008, origin
    with world.fac.websocket_connect(
        f"/ws/{session_id}/facilitator", headers={"origin": "http://testserver"}
    ) as ws:
        assert ws.receive_text()


def test_pages_are_never_stored_and_static_files_are(world: World) -> None:
    session_id, code = world.create_session("opstartsworkshop")
    for path in ("/facilitator", f"/facilitator/sessions/{session_id}", f"/j/{code}", "/login"):
        assert world.fac.get(path).headers["cache-control"] == "no-store", path
    assert world.fac.get("/static/css/app.css").headers.get("cache-control") != "no-store"


def test_websockets_may_connect_only_to_this_service(client: TestClient) -> None:
    csp = client.get("/").headers["content-security-policy"]
    connect = next(d for d in csp.split(";") if d.strip().startswith("connect-src"))
    assert connect.split()[1:] == ["'self'", "ws://testserver"]  # not any host (ws: wss:)


def test_https_installations_send_hsts(tmp_path: Path) -> None:
    from server.app import security_headers
    from server.settings import from_env

    def names(base_url: str) -> set[bytes]:
        settings = from_env({"TOVHOLDER_BASE_URL": base_url}, data_dir=tmp_path)
        return {name for name, _ in security_headers(settings)}

    assert b"strict-transport-security" in names("https://tovholder.example.dk")
    assert b"strict-transport-security" not in names("http://127.0.0.1:8000")
