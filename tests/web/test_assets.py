"""Static files: compressed for clients that take it, immutable by their ?v= hash,
and a phone's first load within its budget (issue 16: forty phones on venue wifi)."""

from __future__ import annotations

import gzip
import re
from collections.abc import Callable
from pathlib import Path

import brotli
import pytest
from starlette.testclient import TestClient

from server.web.assets import Assets, accepted, content_version, slim
from server.web.templating import asset_version, static_url
from tests.support import World

STATIC = Path(__file__).resolve().parents[2] / "static"
IMMUTABLE = "public, max-age=31536000, immutable"
PHONE_ASSETS = ("css/app.css", "vendor/htmx.min.js", "vendor/htmx-ext-ws.min.js", "js/app.js")


def raw(client: TestClient, url: str, encoding: str) -> tuple[int, dict[str, str], bytes]:
    """The bytes as they go over the wire (httpx would decode them)."""
    with client.stream("GET", url, headers={"accept-encoding": encoding}) as r:
        return r.status_code, dict(r.headers), b"".join(r.iter_raw())


@pytest.mark.parametrize("path", ["css/app.css", "js/app.js"])
def test_each_encoding_is_the_same_file(client: TestClient, path: str) -> None:
    original = slim((STATIC / path).read_bytes(), path)
    url = static_url(path)
    status, headers, body = raw(client, url, "gzip, deflate, br, zstd")
    assert status == 200 and headers["content-encoding"] == "br"
    assert brotli.decompress(body) == original
    status, headers, body = raw(client, url, "gzip")
    assert headers["content-encoding"] == "gzip" and gzip.decompress(body) == original
    status, headers, body = raw(client, url, "identity")
    assert "content-encoding" not in headers and body == original
    assert headers["content-length"] == str(len(original))
    assert headers["etag"] == f'"{asset_version(path)}"'  # the version of the file itself
    for encoding in ("br", "gzip", "identity"):
        _, headers, _ = raw(client, url, encoding)
        assert headers["vary"] == "Accept-Encoding"
        assert headers["cache-control"] == IMMUTABLE
        assert headers["x-content-type-options"] == "nosniff"  # the security headers stay
    _, headers, _ = raw(client, url, "br;q=0, gzip;q=0.5")
    assert headers["content-encoding"] == "gzip"


def test_only_the_current_version_is_immutable(client: TestClient) -> None:
    current = client.get(static_url("css/app.css"))
    assert current.headers["cache-control"] == IMMUTABLE
    for url in ("/static/css/app.css", "/static/css/app.css?v=0123456789"):
        r = client.get(url)
        assert r.status_code == 200 and r.headers["cache-control"] == "no-cache", url
        again = client.get(url, headers={"if-none-match": r.headers["etag"]})
        assert again.status_code == 304 and again.content == b""
        assert again.headers["etag"] == r.headers["etag"]
        assert again.headers["vary"] == "Accept-Encoding"
    # Each encoding has its own ETag: a cached gzip body is not a brotli one.
    tags = {raw(client, "/static/js/app.js", e)[1]["etag"] for e in ("br", "gzip", "identity")}
    assert len(tags) == 3


def test_head_missing_files_and_escapes(client: TestClient) -> None:
    r = client.head(static_url("js/app.js"), headers={"accept-encoding": "br"})
    assert r.status_code == 200 and r.content == b""
    assert int(r.headers["content-length"]) < (STATIC / "js/app.js").stat().st_size / 3
    for url in (
        "/static/nope.js",
        "/static/../server/settings.py",
        "/static/%2e%2e/pyproject.toml",
    ):
        assert client.get(url).status_code == 404, url
    assert client.post("/static/js/app.js").status_code == 405


def test_the_versions_in_pages_are_the_served_ones(client: TestClient) -> None:
    page = client.get("/").text
    for path in PHONE_ASSETS:
        assert static_url(path) in page
        assert asset_version(path) == content_version((STATIC / path).read_bytes())


def test_small_and_binary_files_are_sent_as_they_are(tmp_path: Path) -> None:
    (tmp_path / "tiny.css").write_text("p{}\n")
    (tmp_path / "pic.png").write_bytes(b"\x89PNG" + bytes(range(256)) * 8)
    from starlette.applications import Starlette
    from starlette.routing import Mount

    app = Starlette(routes=[Mount("/static", Assets(tmp_path))])
    with TestClient(app) as c:
        for name in ("tiny.css", "pic.png"):
            _, headers, body = raw(c, f"/static/{name}", "br, gzip")
            assert "content-encoding" not in headers and "vary" not in headers, name
            assert body == (tmp_path / name).read_bytes()


def test_accept_encoding_parsing() -> None:
    assert accepted("gzip, deflate, br") == {"gzip", "deflate", "br"}
    assert accepted("br;q=0, gzip;q=0.8") == {"gzip"}
    assert accepted("*") >= {"br", "gzip"}
    assert accepted("") == set()
    assert accepted("gzip;q=nonsense") == set()


def test_a_phones_first_load_fits_the_budget(
    world: World, new_browser: Callable[[], TestClient]
) -> None:
    """The join page and everything it loads, compressed as Chromium asks for it:
    at most 35 KB (it was 103 KB), and under a third of the uncompressed bytes."""
    _, code = world.create_session("opstartsworkshop")
    phone = new_browser()
    page = phone.get(f"/j/{code}")
    urls = re.findall(r'(?:href|src)="(/static/[^"]+)"', page.text)
    assert len(urls) == len(PHONE_ASSETS)
    sent = len(page.content)
    plain = len(page.content)
    for url in urls:
        status, headers, body = raw(phone, url, "gzip, deflate, br, zstd")
        assert status == 200 and headers["cache-control"] == IMMUTABLE
        sent += len(body)
        plain += len(brotli.decompress(body))
    assert sent <= 35_000, sent
    assert sent < plain / 3, (sent, plain)


def test_slim_drops_only_what_cannot_change_meaning() -> None:
    css = b'/* a note */\n.a::before { content: "/* kept */"; }\n\n  .b { color: red; } /* x */\n'
    assert slim(css, "app.css") == b'.a::before { content: "/* kept */"; }\n.b { color: red; }\n'
    js = b'// a note\n(function () {\n  var a = "// kept"; // kept too\n\n  return a;\n})();\n'
    assert (
        slim(js, "app.js") == b'(function () {\nvar a = "// kept"; // kept too\nreturn a;\n})();\n'
    )
    for risky in (b"var a = `x\n  // y`;\n", b'var a = "x\\\n  // y";\n'):
        assert slim(risky, "app.js") == risky  # a line break may be inside a string
    assert slim(b"  // vendor\n", "htmx.min.js") == b"  // vendor\n"
    assert slim(b"\xff\xfe /* x */", "app.css") == b"\xff\xfe /* x */"
    # The project's own files lose a good part, and stay valid (the browser tests run them).
    for path in ("css/app.css", "js/app.js"):
        assert len(slim((STATIC / path).read_bytes(), path)) < 0.95 * (STATIC / path).stat().st_size
