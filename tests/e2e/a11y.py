"""Accessibility checks in the browser: axe-core, screenshots at three sizes, and the
layout rules axe does not measure (thumb-sized targets, no sideways scrolling on a
phone, large type on the projector).

A screen is checked with `check(page, name)`: the page is shown at each size in turn
(the same page, re-laid out with set_viewport_size, so a live session is not joined
three times), photographed into test-artifacts/<name>-<size>.png, run through axe and
measured. Every problem comes back as one line, so a test can gather a whole journey
and report all of it at once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

from tests.e2e.conftest import shot
from tests.e2e.journeys import LAPTOP, PHONE, PROJECTOR

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "static" / "vendor" / "axe.min.js"
AXE_URL = "/static/vendor/axe.min.js"
# WCAG 2.0, 2.1 and 2.2, levels A and AA.
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
BLOCKING = ("serious", "critical")
SIZES: dict[str, dict[str, int]] = {"phone": PHONE, "laptop": LAPTOP, "projector": PROJECTOR}
# One thumb: WCAG 2.5.5's 44 CSS px for every control on a phone-sized screen.
THUMB = 44
# The projector at 1920x1080, read from the back of a meeting room: nothing under
# 24 px (about 1.25vw), the main titles far bigger, and no thin weights.
PROJECTOR_MIN_PX = 24
PROJECTOR_TITLE_MIN_PX = 48


def require_axe() -> None:
    if not AXE.exists():
        pytest.fail(
            f"{AXE.relative_to(ROOT)} is missing: run `make vendor` "
            "(npm ci copies the pinned axe-core into static/vendor/)"
        )


def axe(page: Page, screen: str) -> list[str]:
    """axe-core's serious and critical WCAG 2.x A/AA violations on the page as it is now."""
    require_axe()
    if not page.evaluate("() => typeof window.axe === 'object'"):
        # Loaded by URL from the server itself, so the page's CSP (script-src 'self')
        # stays on while axe runs; the file is the one `make vendor` copied.
        page.add_script_tag(url=AXE_URL)
        page.wait_for_function("() => typeof window.axe === 'object'")
    result: dict[str, Any] = page.evaluate(
        """async (tags) => {
            const r = await axe.run(document, {
                runOnly: {type: 'tag', values: tags},
                resultTypes: ['violations'],
            });
            return {violations: r.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => ({target: n.target.join(' '),
                                          summary: (n.failureSummary || '').split('\\n').slice(1, 2).join('')})),
            }))};
        }""",
        TAGS,
    )
    problems = []
    for v in result["violations"]:
        if v["impact"] not in BLOCKING:
            continue
        for node in v["nodes"][:6]:
            problems.append(
                f"{screen}: axe {v['id']} ({v['impact']}): {v['help']} at {node['target']}"
                f" {node['summary']}".rstrip()
            )
    return problems


def phone_layout(page: Page, screen: str) -> list[str]:
    """At 360 px: no sideways scrolling, and every control at least 44x44 px."""
    found: dict[str, Any] = page.evaluate(
        """(thumb) => {
            const doc = document.documentElement;
            const small = [];
            const controls = document.querySelectorAll(
                'button, .btn, select, textarea, summary, [role=button], label.pick, ' +
                'input:not([type=hidden]):not([type=radio]):not([type=checkbox])');
            for (const el of controls) {
                if (el.closest('.sr-only, [hidden]')) continue;
                const box = el.getBoundingClientRect();
                if (!box.width || !box.height) continue;  // not shown
                if (getComputedStyle(el).visibility === 'hidden') continue;
                if (box.width < thumb || box.height < thumb) {
                    const name = (el.getAttribute('aria-label') || el.textContent || el.name || '')
                        .trim().replace(/\\s+/g, ' ').slice(0, 40);
                    small.push(`${el.tagName.toLowerCase()}${el.className ? '.' + String(el.className).split(' ').join('.') : ''}`
                        + ` "${name}" ${Math.round(box.width)}x${Math.round(box.height)}`);
                }
            }
            // What sticks out on the right, innermost first, to say where to look.
            const out = [];
            for (const el of document.body.querySelectorAll('*')) {
                const box = el.getBoundingClientRect();
                if (box.right > innerWidth + 1 && box.width) out.push([box.width * box.height,
                    `${el.tagName.toLowerCase()}.${String(el.className).split(' ').join('.')}`
                    + ` to ${Math.round(box.right)} px`]);
            }
            const texts = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
            while (texts.nextNode()) {
                const range = document.createRange();
                range.selectNodeContents(texts.currentNode);
                const box = range.getBoundingClientRect();
                if (box.right > innerWidth + 1 && box.width) out.push([0,
                    `text "${texts.currentNode.textContent.trim().slice(0, 30)}" to ${Math.round(box.right)} px`]);
            }
            out.sort((a, b) => a[0] - b[0]);
            return {scroll: doc.scrollWidth, width: window.innerWidth, small,
                    out: out.slice(0, 4).map(o => o[1])};
        }""",
        THUMB,
    )
    problems = [f"{screen}: target under {THUMB} px on the phone: {s}" for s in found["small"]]
    if found["scroll"] > found["width"]:
        problems.append(
            f"{screen}: scrolls sideways on the phone ({found['scroll']} px wide in"
            f" {found['width']}): {', '.join(found['out'])}"
        )
    return problems


def projector_type(page: Page, screen: str) -> list[str]:
    """At 1920x1080: all of it on the wall, text at least 24 px, never thin, big titles."""
    found: dict[str, Any] = page.evaluate(
        """(min) => {
            const small = [], thin = [];
            const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
            const seen = new Set();
            while (walker.nextNode()) {
                const el = walker.currentNode.parentElement;
                if (!walker.currentNode.textContent.trim() || seen.has(el)) continue;
                seen.add(el);
                if (el.closest('.sr-only, [hidden], script, style, svg')) continue;
                const box = el.getBoundingClientRect();
                if (!box.width || !box.height || box.right <= 0 || box.bottom <= 0) continue;
                const style = getComputedStyle(el);
                if (style.visibility === 'hidden') continue;
                const text = el.textContent.trim().replace(/\\s+/g, ' ').slice(0, 30);
                const size = parseFloat(style.fontSize);
                if (size < min) small.push(`"${text}" ${size}px`);
                if (parseInt(style.fontWeight, 10) < 400) thin.push(`"${text}" weight ${style.fontWeight}`);
            }
            // A chart's labels are SVG text scaled with the chart: measure them as drawn
            // (a line's box is a little taller than its font size).
            for (const text of document.querySelectorAll('svg text')) {
                const box = text.getBoundingClientRect();
                if (box.height && box.height < min) {
                    small.push(`chart "${text.textContent.trim().slice(0, 30)}" ${box.height.toFixed(1)}px tall`);
                }
            }
            const body = parseFloat(getComputedStyle(document.body).fontSize);
            const title = document.querySelector('.p-title');
            const doc = document.documentElement;
            return {small, thin, body, tall: doc.scrollHeight, wide: doc.scrollWidth,
                    width: innerWidth, height: innerHeight,
                    title: title ? parseFloat(getComputedStyle(title).fontSize) : null};
        }""",
        PROJECTOR_MIN_PX,
    )
    problems = [
        f"{screen}: projector text under {PROJECTOR_MIN_PX} px: {s}" for s in found["small"]
    ]
    problems += [f"{screen}: thin font on the projector: {s}" for s in found["thin"]]
    if found["body"] < PROJECTOR_MIN_PX:
        problems.append(f"{screen}: projector body font {found['body']} px")
    if found["tall"] > found["height"] or found["wide"] > found["width"]:
        problems.append(
            f"{screen}: the projector scrolls ({found['wide']}x{found['tall']} px):"
            " something is cut off at the bottom of the wall"
        )
    if found["title"] is not None and found["title"] < PROJECTOR_TITLE_MIN_PX:
        problems.append(f"{screen}: projector title {found['title']} px")
    return problems


def check(
    page: Page,
    screen: str,
    *,
    sizes: tuple[str, ...] = ("phone", "laptop", "projector"),
    axe_at: tuple[str, ...] | None = None,
    phone_rules: bool = True,
    projector_rules: bool = False,
) -> list[str]:
    """Show the page at each size: screenshot, axe, and the measurable layout rules.

    axe runs at the first size, the one the screen is made for, unless `axe_at` says
    otherwise (colours, names and landmarks do not change with the width; the phone's
    targets are measured by phone_layout); the page is left at the last size.
    """
    problems: list[str] = []
    for size in sizes:
        page.set_viewport_size(SIZES[size])
        page.evaluate("() => new Promise(r => requestAnimationFrame(() => r(null)))")
        shot(page, f"{screen}-{size}")
        name = f"{screen} @{size}"
        if size in (axe_at or sizes[:1]):
            problems += axe(page, name)
        if size == "phone" and phone_rules:
            problems += phone_layout(page, name)
        if size == "projector" and projector_rules:
            problems += projector_type(page, name)
    return problems


def report(problems: list[str]) -> str:
    return f"{len(problems)} accessibility problem(s):\n" + "\n".join(problems)
