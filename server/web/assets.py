"""The static files, compressed once and cached for good by their versioned URL.

Pages name every asset as `/static/<path>?v=<hash>` (templating.static_url), the
hash of its content. A response to that URL never changes, so it carries
`Cache-Control: public, max-age=31536000, immutable`: a phone that reloads
fetches nothing. Without the hash, or with an old one, the file is served with
`no-cache` (a browser asks again and gets a 304 while the ETag still matches).

Text assets (css, js, svg, ...) are kept in memory the first time they are
asked for, the project's own css and js without their comments (`slim`), with
a brotli and a gzip variant; a client gets the smallest its
Accept-Encoding takes (with `Vary: Accept-Encoding`). Forty phones joining at
once on venue wifi each fetch about a third of the bytes. The cache is this object's, made per app in
routes(); files change only with a deploy, which restarts the process (as the
templates and `asset_version` assume).
"""

from __future__ import annotations

import gzip
import hashlib
import os
import stat
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import formatdate
from mimetypes import guess_type
from urllib.parse import parse_qs

import anyio.to_thread
import brotli
from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.staticfiles import NotModifiedResponse, StaticFiles
from starlette.types import Scope

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
COMPRESSIBLE = frozenset({".css", ".js", ".mjs", ".svg", ".json", ".map", ".txt", ".html"})
MIN_COMPRESS = 256  # bytes: below this the headers weigh more than what is saved
MAX_IN_MEMORY = 4 * 1024 * 1024  # larger files are streamed from disk as they are
BEST_BROTLI_UP_TO = 256 * 1024  # brotli's best quality is slow on big files


def content_version(data: bytes) -> str:
    """The `v=` of an asset's URL: a short hash of its content."""
    return hashlib.sha256(data).hexdigest()[:10]


def accepted(header: str) -> set[str]:
    """The codings an Accept-Encoding header takes ('gzip;q=0' refuses gzip)."""
    taken: set[str] = set()
    for item in header.lower().split(","):
        coding, _, params = item.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if coding and q > 0:
            taken.add(coding.strip())
    if "*" in taken:
        taken |= {"br", "gzip"}
    return taken


@dataclass(frozen=True, slots=True)
class Asset:
    """One file as it is served: its bytes, and the same compressed."""

    version: str
    media_type: str
    last_modified: str
    bodies: Mapping[str, bytes]  # "identity", and "br" / "gzip" where they are smaller

    def response(self, scope: Scope) -> Response:
        request = Headers(scope=scope)
        taken = accepted(request.get("accept-encoding", ""))
        coding = next((c for c in ("br", "gzip") if c in taken and c in self.bodies), "identity")
        body = self.bodies[coding]
        versions = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("v", [])
        headers = {
            "cache-control": IMMUTABLE if versions == [self.version] else REVALIDATE,
            "etag": f'"{self.version}"' if coding == "identity" else f'"{self.version}-{coding}"',
            "last-modified": self.last_modified,
            "content-length": str(len(body)),
        }
        if len(self.bodies) > 1:
            headers["vary"] = "Accept-Encoding"
        if coding != "identity":
            headers["content-encoding"] = coding
        sent = Headers(headers=headers)
        if _matches(request.get("if-none-match", ""), headers["etag"]):
            return NotModifiedResponse(sent)
        head = scope["method"] == "HEAD"
        return Response(b"" if head else body, headers=headers, media_type=self.media_type)


def _matches(if_none_match: str, etag: str) -> bool:
    tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
    return "*" in tags or etag in tags


def compress(data: bytes) -> dict[str, bytes]:
    """The variants of a text file worth sending: each only if it is smaller."""
    bodies = {"identity": data}
    if len(data) < MIN_COMPRESS:
        return bodies
    quality = 11 if len(data) <= BEST_BROTLI_UP_TO else 9
    variants: dict[str, bytes] = {
        "gzip": gzip.compress(data, compresslevel=9, mtime=0),
        "br": brotli.compress(data, quality=quality),
    }
    bodies.update({k: v for k, v in variants.items() if len(v) < len(data)})
    return bodies


def slim(data: bytes, name: str) -> bytes:
    """The project's own css and js without comments and indentation (a third of
    their compressed bytes): only what cannot change their meaning. CSS loses its
    /* comments */ outside strings; JS loses whole-line // comments and leading
    spaces, unless it has a template literal or a line continued with a
    backslash, where a line break may be inside a string. Minified vendor files
    and anything that is not UTF-8 are sent as they are."""
    if name.endswith((".min.js", ".min.css")):
        return data
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return data
    if name.endswith(".css"):
        text = _without_css_comments(text)
    elif name.endswith(".js"):
        code = [line for line in (ln.strip() for ln in text.splitlines()) if line[:2] != "//"]
        if any("`" in line or line.endswith("\\") for line in code):
            return data
        text = "\n".join(code)
    else:
        return data
    kept = [line.strip() for line in text.splitlines()]
    return ("\n".join(line for line in kept if line) + "\n").encode("utf-8")


def _without_css_comments(text: str) -> str:
    out: list[str] = []
    i, quote = 0, ""
    while i < len(text):
        c = text[i]
        if quote:
            out.append(c)
            if c == "\\" and i + 1 < len(text):
                out.append(text[i + 1])
                i += 1
            elif c == quote:
                quote = ""
        elif c in "\"'":
            quote = c
            out.append(c)
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = len(text) if end < 0 else end + 2
            continue
        else:
            out.append(c)
        i += 1
    return "".join(out)


class Assets(StaticFiles):
    """StaticFiles with compressed variants and caching headers (see the module)."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        super().__init__(directory=directory, check_dir=False)
        self._assets: dict[str, Asset] = {}
        self._lock = threading.Lock()

    async def get_response(self, path: str, scope: Scope) -> Response:
        if scope["method"] in ("GET", "HEAD"):
            asset = self._assets.get(path)
            if asset is None:
                asset = await anyio.to_thread.run_sync(self._load, path)
            if asset is not None:
                return asset.response(scope)
        response = await super().get_response(path, scope)  # 404, 405, large files
        response.headers.setdefault("cache-control", REVALIDATE)
        return response

    def _load(self, path: str) -> Asset | None:
        """Read (and compress) a file once; None leaves it to StaticFiles."""
        try:
            full_path, found = self.lookup_path(path)
        except (OSError, ValueError):
            return None  # StaticFiles answers these (a name too long, a NUL byte, ...)
        if found is None or not stat.S_ISREG(found.st_mode) or found.st_size > MAX_IN_MEMORY:
            return None
        with self._lock:  # forty phones asking at once: one of them reads and compresses
            if (asset := self._assets.get(path)) is not None:
                return asset
            with open(full_path, "rb") as f:
                data = f.read()
            suffix = os.path.splitext(full_path)[1].lower()
            name = os.path.basename(full_path)
            asset = Asset(
                version=content_version(data),  # of the file, as the pages' URLs name it
                media_type=guess_type(full_path)[0] or "text/plain",
                last_modified=formatdate(found.st_mtime, usegmt=True),
                bodies=compress(slim(data, name)) if suffix in COMPRESSIBLE else {"identity": data},
            )
            self._assets[path] = asset
            return asset
