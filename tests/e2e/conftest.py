"""A real server (the README's demo command) and Debian's Chromium via Playwright."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class DemoServer:
    base: str
    session_url: str
    projector_url: str
    join_url: str
    code: str
    user: str
    password: str


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    port = free_port()
    env = {**os.environ, "TOVHOLDER_DATA_DIR": str(tmp_path_factory.mktemp("data"))}
    env.pop("TOVHOLDER_BASE_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "demo", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    deadline = time.monotonic() + 60
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if "Uvicorn running" in line or "Application startup complete" in line:
            break
    text = "".join(lines)
    try:
        login = re.search(r"user: (\S+)\s+password: (\S+)", text)
        session = re.search(r"Live session: (\S+)", text)
        projector = re.search(r"Projector:\s+(\S+)", text)
        phones = re.search(r"Phones:\s+(\S+)", text)
        assert login and session and projector and phones, text
        yield DemoServer(
            base=f"http://127.0.0.1:{port}",
            session_url=session.group(1),
            projector_url=projector.group(1),
            join_url=phones.group(1),
            code=phones.group(1).rsplit("/", 1)[1],
            user=login.group(1),
            password=login.group(2),
        )
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.fail(
            "Debian's Chromium is missing: run `make system-deps` (apt-get install chromium)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield b
        b.close()


def shot(page: object, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)  # type: ignore[attr-defined]
    return path
