"""The audit log: reading case material, exporting and deleting are recorded; administrators read it."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from server.privacy import audit
from server.store.tables import AuditLog
from tests.security.sec_support import Cast, cast, form_token

SERVER = Path(__file__).resolve().parents[2] / "server"


def entries(c: TestClient, people: Cast) -> list[AuditLog]:
    async def go() -> list[AuditLog]:
        async with people.services.repo.sessions() as db:
            return list((await db.exec(select(AuditLog))).all())

    return c.portal.call(go)


@pytest.fixture
def people(client: TestClient, new_browser: Callable[[], TestClient]) -> Cast:
    return cast(client, new_browser)


def test_reading_case_material_is_recorded_with_who_and_when(
    client: TestClient, people: Cast
) -> None:
    fac = people.browsers["facilitator"]
    coordinator = people.browsers["coordinator"]
    observer = people.browsers["observer"]

    async def make() -> str:
        row = await people.services.create_session(
            people.engagement_id, "opstartsworkshop", people.users["facilitator"]
        )
        return row.id

    session_id = client.portal.call(make)
    assert fac.get(f"/facilitator/sessions/{session_id}").status_code == 200
    assert coordinator.get(f"/facilitator/sessions/{session_id}/minutes").status_code == 200
    assert observer.get(f"/projector/{session_id}").status_code == 200
    # Refused requests leave no "read" behind.
    assert observer.get(f"/facilitator/sessions/{session_id}/minutes").status_code == 404
    rows = entries(client, people)
    seen = {(r.action, r.user_id) for r in rows}
    assert ("session.open", people.users["facilitator"].id) in seen
    assert ("minutes.read", people.users["coordinator"].id) in seen
    assert ("session.watch", people.users["observer"].id) in seen
    assert ("minutes.read", people.users["observer"].id) not in seen
    for row in rows:
        assert row.at is not None and row.action in audit.ACTIONS
        if row.action in ("session.open", "minutes.read", "session.watch"):
            assert row.engagement_id == people.engagement_id
            assert session_id in row.target


def test_only_administrators_read_and_export_the_audit_log(
    client: TestClient, people: Cast
) -> None:
    for who in ("observer", "coordinator", "facilitator", "administrator", "outsider"):
        c = people.browsers[who]
        assert c.get("/admin/audit").status_code == 403, who
        assert c.get("/admin/audit.csv").status_code == 403, who
        assert c.get("/admin").status_code == 403, who
    admin = people.browsers["admin"]
    page = admin.get("/admin/audit")
    assert page.status_code == 200 and "login" in page.text
    r = admin.get("/admin/audit.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    body = r.content.decode("utf-8-sig")
    assert body.splitlines()[0].split(";")[:5] == ["id", "at (UTC)", "actor", "user_id", "action"]
    actions = [r.action for r in entries(client, people)]
    assert "audit.read" in actions and "audit.export" in actions


def test_the_audit_page_filters_and_pages(client: TestClient, people: Cast) -> None:
    async def many() -> None:
        for i in range(audit.PAGE_SIZE + 5):
            await audit.record(
                people.services.repo,
                "session.open",
                f"session:s{i}",
                actor="x",
                engagement_id=people.engagement_id,
            )

    client.portal.call(many)
    admin = people.browsers["admin"]
    page = admin.get(f"/admin/audit?engagement={people.engagement_id}&action=session.open")
    assert page.text.count("<tr>") == audit.PAGE_SIZE + 1  # the head row and a full page
    older = re.search(r'href="(/admin/audit\?[^"]*before=\d+)"', page.text)
    assert older
    rest = admin.get(older.group(1).replace("&amp;", "&"))
    assert rest.text.count("<tr>") == 5 + 1
    # Nonsense in the filters is ignored, not an error.
    for query in ("before=-1", "before=99999999999999", "action=<x>", "engagement=';--"):
        assert admin.get(f"/admin/audit?{query}").status_code == 200


def test_the_admin_page_lists_engagements_with_export_and_delete(
    client: TestClient, people: Cast
) -> None:
    admin = people.browsers["admin"]
    page = admin.get("/admin")
    assert page.status_code == 200 and "Varde" in page.text
    assert f"/admin/engagements/{people.engagement_id}/export" in page.text
    assert f"/admin/engagements/{people.engagement_id}/delete" in page.text
    # The retention note names the command as code, not in literal backticks.
    assert "<code>tovholder purge</code>" in page.text and "`" not in page.text


def test_audit_targets_never_hold_case_text(client: TestClient, people: Cast) -> None:
    with pytest.raises(ValueError):
        client.portal.call(lambda: audit.record(people.services.repo, "made.up", "x"))
    long = "x" * 500
    client.portal.call(lambda: audit.record(people.services.repo, "login", long))
    (row,) = [
        r for r in entries(client, people) if r.action == "login" and r.target.startswith("x")
    ]
    assert len(row.target) == 200
    assert form_token(people.browsers["admin"])


def _audit_actions_in_source() -> set[str]:
    """Every action name the server writes: record(..., "x"), repo.audit("x"), audit="x"."""
    found: set[str] = set()
    for path in SERVER.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
            for kw in node.keywords:
                if kw.arg == "audit" and isinstance(kw.value, ast.Constant):
                    found.add(str(kw.value.value))
            if name == "audit" and node.args and isinstance(node.args[0], ast.Constant):
                found.add(str(node.args[0].value))
            if name in ("record", "record_audit") and len(node.args) >= 2:
                arg = node.args[1]
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    found.add(arg.value)
                elif isinstance(arg, ast.JoinedStr):
                    head = arg.values[0]
                    if isinstance(head, ast.Constant):
                        found.update(a for a in audit.ACTIONS if a.startswith(str(head.value)))
    return found


def test_every_audit_action_written_anywhere_is_explained() -> None:
    written = _audit_actions_in_source()
    assert {"session.open", "engagement.delete", "engagement.export"} <= written
    unknown = sorted(written - set(audit.ACTIONS))
    assert not unknown, (
        f"audit actions without a line in server/privacy/audit.py ACTIONS: {unknown}"
    )


def test_changes_to_an_engagement_are_recorded_with_who(client: TestClient, people: Cast) -> None:
    """Settings, focus areas and plan rows changed: each is an entry, with ids only."""
    fac = people.browsers["facilitator"]
    base = f"/engagements/{people.engagement_id}"
    token = form_token(fac)
    fac.post(f"{base}/settings", data={"csrf": token, "selection_target": "20"})
    fac.post(f"{base}/focus-areas", data={"csrf": token, "title": "Opfølgning", "description": ""})
    fac.post(f"{base}/plan/rows", data={"csrf": token, "purpose": "Bedre opfølgning"})
    rows = entries(client, people)
    done = {(r.action, r.user_id, r.engagement_id) for r in rows}
    who = people.users["facilitator"].id
    for action in ("engagement.settings", "focus_area.edit", "plan.edit"):
        assert (action, who, people.engagement_id) in done, action
    for row in rows:
        assert "Opfølgning" not in row.target and "Bedre" not in row.target
