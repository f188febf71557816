"""The benchmark's phones reconnect exactly as the browser client does.

static/js/app.js gives htmx's ws extension its reconnect delay; bench/phones.py
(the benchmark's fleet and the fault tests' phones) must wait the same, or the
restart figures would measure a kinder client than the real one. The script
itself is run (under Node, with a stub page) and compared value by value.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from bench import phones

APP_JS = Path(__file__).resolve().parents[2] / "static" / "js" / "app.js"

HARNESS = """
const noop = function () {};
const randoms = %(randoms)s;
let next = 0;
Math.random = function () { return randoms[next++ %% randoms.length]; };
globalThis.window = globalThis;
globalThis.setInterval = noop;
globalThis.setTimeout = noop;
globalThis.navigator = {};
globalThis.document = {addEventListener: noop, querySelectorAll: function () { return []; }};
globalThis.htmx = {config: {wsReconnectDelay: "full-jitter"}};  // as the extension left it
require(%(app)s);
const delay = htmx.config.wsReconnectDelay;
if (typeof delay !== "function") { throw new Error("app.js did not set wsReconnectDelay"); }
const out = [];
for (const retry of %(retries)s) { for (let i = 0; i < randoms.length; i++) out.push(delay(retry)); }
console.log(JSON.stringify(out));
"""

RANDOMS = [0.0, 0.25, 0.5, 0.999999]
RETRIES = list(range(12))


def browser_delays() -> list[float]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("needs Node to run static/js/app.js")
    script = HARNESS % {
        "randoms": json.dumps(RANDOMS),
        "app": json.dumps(str(APP_JS)),
        "retries": json.dumps(RETRIES),
    }
    done = subprocess.run(
        [node, "-e", script], capture_output=True, text=True, timeout=30, check=True
    )
    return [ms / 1000 for ms in json.loads(done.stdout)]


def test_the_fleet_waits_exactly_as_the_browser(monkeypatch: pytest.MonkeyPatch) -> None:
    expected = browser_delays()
    values = iter(RANDOMS * len(RETRIES))
    monkeypatch.setattr(phones.random, "random", lambda: next(values))
    ours = [phones.full_jitter(retry) for retry in RETRIES for _ in RANDOMS]
    assert ours == pytest.approx(expected, abs=1e-9)


def test_the_wait_is_capped_so_a_restart_is_over_within_seconds() -> None:
    delays = browser_delays()
    assert max(delays) <= 3.0  # htmx's own "full-jitter" would wait up to 64 s
    assert max(delays[: len(RANDOMS)]) <= 1.0  # the first try after a close: within 1 s
    # the window grows while the server stays away: 1 s, 2 s, then 3 s
    assert max(delays[len(RANDOMS) : 2 * len(RANDOMS)]) == pytest.approx(2.0, rel=1e-5)
