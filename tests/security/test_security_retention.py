"""Export, hard deletion and the retention purge of an engagement, all audited."""

from __future__ import annotations

import io
import json
import os
import stat
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text, update
from sqlmodel import SQLModel
from starlette.testclient import TestClient

from server.engine import Actor, ActorRole
from server.engine.commands import AddCard, GoToStep, RecordDecision, StartSession
from server.privacy import commands, retention
from server.settings import Settings
from server.store.tables import AuditLog
from tests.security.sec_support import Cast, cast, form_token

SECRET = "ZEBRAFINK sagsnotat om Emil 4711"  # distinctive case text
FAC = Actor(ActorRole.FACILITATOR, "user:1")


def _run(c: TestClient, fn: Callable[..., object], *args: object) -> object:
    return c.portal.call(fn, *args)


def seed_sessions(c: TestClient, people: Cast, text_in_it: str) -> list[str]:
    """Two sessions with cards and a decision carrying `text_in_it`; returns their ids."""
    svc = people.services
    ids = []
    for script_id in ("opstartsworkshop", "styregruppemoede"):

        async def make(script_id: str = script_id) -> str:
            row = await svc.create_session(
                people.engagement_id, script_id, people.users["facilitator"]
            )
            live = await svc.live.get(row.id)
            assert live is not None
            await live.submit(StartSession(actor=FAC))
            step = next((s for s in live.state.script.steps if s.cards), None)
            if step is not None:
                await live.submit(GoToStep(actor=FAC, step_id=step.id))
                await live.submit(AddCard(actor=FAC, card_id="k1", text=f"Kort: {text_in_it}"))
            await live.submit(
                RecordDecision(actor=FAC, decision_id="d1", text=f"Beslutning: {text_in_it}")
            )
            return row.id

        ids.append(str(_run(c, make)))
    return ids


def add_case(c: TestClient, people: Cast, cover: str) -> bool:
    """A case in the register, where the schema has one (server/engagement)."""
    table = SQLModel.metadata.tables.get("engagement_case")
    if table is None:
        return False

    async def go() -> None:
        async with people.services.engine.begin() as conn:
            await conn.execute(
                table.insert().values(
                    id=f"case-{people.engagement_id}",
                    engagement_id=people.engagement_id,
                    label="Sag 17",
                    position=1,
                    cover=cover,
                    summary="",
                    learning_question="",
                    tags="",
                    selected=False,
                    selection_reason="",
                    created_at=datetime.now(UTC),
                )
            )

    _run(c, go)
    return True


def count_rows(c: TestClient, people: Cast, engagement_id: str) -> dict[str, int]:
    owned = {t.name for t in retention.owned_tables()}

    async def go() -> dict[str, int]:
        counts = {}
        async with people.services.engine.connect() as conn:
            for table in retention.owned_tables():
                query = select(func.count()).select_from(table)
                query = query.where(retention._condition(table, engagement_id, owned))
                counts[table.name] = int((await conn.execute(query)).scalar() or 0)
        return counts

    return _run(c, go)  # type: ignore[return-value]


def audit_rows(c: TestClient, people: Cast) -> list[AuditLog]:
    async def go() -> list[AuditLog]:
        async with people.services.repo.sessions() as db:
            return list((await db.exec(select(AuditLog))).scalars().all())

    return _run(c, go)  # type: ignore[return-value]


@pytest.fixture
def people(client: TestClient, new_browser: Callable[[], TestClient]) -> Cast:
    return cast(client, new_browser)


def test_every_table_is_either_owned_by_an_engagement_or_global() -> None:
    assert retention.unclassified() == [], (
        "a new table neither reaches `engagement` through NOT NULL foreign keys nor is in "
        "retention.GLOBAL: decide whether export/delete must take it with the engagement"
    )
    owned = {t.name for t in retention.owned_tables()}
    assert {"engagement", "engagement_member", "session", "event"} <= owned
    assert "audit_log" not in owned and "user" not in owned


def test_export_is_one_archive_with_everything_and_is_audited(
    client: TestClient, people: Cast
) -> None:
    session_ids = seed_sessions(client, people, SECRET)
    has_cases = add_case(client, people, f"Forklæde: {SECRET}")
    admin = people.browsers["admin"]
    r = admin.post(
        f"/admin/engagements/{people.engagement_id}/export", data={"csrf": form_token(admin)}
    )
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    assert "attachment" in r.headers["content-disposition"]
    assert r.headers["cache-control"] == "no-store"
    archive = zipfile.ZipFile(io.BytesIO(r.content))
    names = set(archive.namelist())
    assert "engagement.json" in names and "README.txt" in names
    data = json.loads(archive.read("engagement.json"))
    assert data["format"] == retention.FORMAT and data["engagement_id"] == people.engagement_id
    assert {s["id"] for s in data["tables"]["session"]} == set(session_ids)
    assert len(data["tables"]["engagement_member"]) == 4
    if has_cases:
        assert SECRET in data["tables"]["engagement_case"][0]["cover"]
    for sid in session_ids:
        events = json.loads(archive.read(f"sessions/{sid}/events.json"))
        assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
        assert SECRET in json.dumps(events, ensure_ascii=False)
        assert f"sessions/{sid}/minutes.md" in names, archive.read("README.txt")
        assert SECRET in archive.read(f"sessions/{sid}/minutes.md").decode()
    (entry,) = [a for a in audit_rows(client, people) if a.action == "engagement.export"]
    assert entry.user_id == people.users["admin"].id
    assert entry.engagement_id == people.engagement_id
    assert SECRET not in entry.target  # the audit log names, it does not quote


def test_export_and_delete_are_refused_to_roles_without_them(
    client: TestClient, people: Cast
) -> None:
    seed_sessions(client, people, SECRET)
    eid = people.engagement_id
    for who, may_export, may_delete in [
        ("observer", False, False),
        ("facilitator", False, False),
        ("outsider", False, False),
        ("coordinator", True, False),
        ("administrator", True, True),
    ]:
        c = people.browsers[who]
        r = c.post(f"/admin/engagements/{eid}/export", data={"csrf": form_token(c)})
        assert (r.status_code == 200) is may_export, who
        r = c.post(
            f"/admin/engagements/{eid}/delete", data={"csrf": form_token(c), "confirm": "nope"}
        )
        assert r.status_code == (400 if may_delete else 404), who
    assert count_rows(client, people, eid)["session"] == 2


def test_delete_removes_everything_of_one_engagement_and_nothing_else(
    client: TestClient, new_browser: Callable[[], TestClient], people: Cast, settings: Settings
) -> None:
    doomed = seed_sessions(client, people, SECRET)
    add_case(client, people, f"Forklæde: {SECRET}")
    other = cast_other(client, people)
    before_other = count_rows(client, people, other)
    admin = people.browsers["admin"]
    eid = people.engagement_id
    # The facilitator's screen is open when it goes.
    fac = people.browsers["facilitator"]
    assert fac.get(f"/facilitator/sessions/{doomed[0]}").status_code == 200
    # The title must be typed to confirm.
    page = admin.get(f"/admin/engagements/{eid}/delete")
    assert page.status_code == 200 and "Varde" in page.text
    r = admin.post(
        f"/admin/engagements/{eid}/delete", data={"csrf": form_token(admin), "confirm": "Vard"}
    )
    assert r.status_code == 400
    assert count_rows(client, people, eid)["event"] > 0
    _checkpoint(client, people)
    db_file = Path(settings.db_url.split("///", 1)[1])
    assert SECRET.encode() in _bytes_of(db_file)  # it was on disk
    r = admin.post(
        f"/admin/engagements/{eid}/delete", data={"csrf": form_token(admin), "confirm": " Varde "}
    )
    assert r.status_code == 200
    assert all(n == 0 for n in count_rows(client, people, eid).values()), count_rows(
        client, people, eid
    )
    assert count_rows(client, people, other) == before_other
    # secure_delete + WAL checkpoint: the text is gone from the files, not just unlinked.
    assert SECRET.encode() not in _bytes_of(db_file)
    # Memory and screens forget it too.
    assert all(sid not in people.services.live.sessions for sid in doomed)
    assert fac.get(f"/facilitator/sessions/{doomed[0]}").status_code == 404
    (entry,) = [a for a in audit_rows(client, people) if a.action == "engagement.delete"]
    assert entry.engagement_id == eid and entry.user_id == people.users["admin"].id
    assert "session: 2" in entry.target and SECRET not in entry.target


def cast_other(client: TestClient, people: Cast) -> str:
    """A second engagement, with its own session and the same text, that must survive."""
    svc = people.services

    async def go() -> str:
        eng = await svc.repo.add_engagement(
            "Slagelse", "Slagelse Kommune", {people.users["facilitator"].id or 0: "facilitator"}
        )
        row = await svc.create_session(eng.id, "kvifa", people.users["facilitator"])
        live = await svc.live.get(row.id)
        assert live is not None
        await live.submit(StartSession(actor=FAC))
        return eng.id

    return str(_run(client, go))


def _checkpoint(c: TestClient, people: Cast) -> None:
    _run(c, retention.checkpoint, people.services.engine)


def _bytes_of(db_file: Path) -> bytes:
    data = b""
    for suffix in ("", "-wal", "-journal"):
        f = Path(str(db_file) + suffix)
        if f.exists():
            data += f.read_bytes()
    return data


def age(c: TestClient, people: Cast, engagement_id: str, days: int) -> None:
    """Make every trace of an engagement `days` old."""
    tables = SQLModel.metadata.tables
    then = datetime.now(UTC) - timedelta(days=days)

    async def go() -> None:
        async with people.services.engine.begin() as conn:
            await conn.execute(
                update(tables["engagement"])
                .where(tables["engagement"].c.id == engagement_id)
                .values(created_at=then)
            )
            sessions = select(tables["session"].c.id).where(
                tables["session"].c.engagement_id == engagement_id
            )
            await conn.execute(
                update(tables["session"])
                .where(tables["session"].c.engagement_id == engagement_id)
                .values(created_at=then, ended_at=None)
            )
            await conn.execute(
                update(tables["event"])
                .where(tables["event"].c.session_id.in_(sessions))
                .values(at=then.timestamp())
            )

    _run(c, go)


def test_purge_deletes_only_engagements_past_retention_and_dry_run_deletes_nothing(
    client: TestClient, people: Cast, settings: Settings
) -> None:
    seed_sessions(client, people, SECRET)
    recent = cast_other(client, people)
    age(client, people, people.engagement_id, settings.retention_days + 1)
    age(client, people, recent, settings.retention_days - 1)
    out = io.StringIO()
    assert _run(client, lambda: commands.purge(settings, True, out=out)) == 0
    assert f"Would delete: {people.engagement_id}" in out.getvalue()
    assert recent not in out.getvalue()
    assert count_rows(client, people, people.engagement_id)["session"] == 2

    out = io.StringIO()
    _run(client, lambda: commands.purge(settings, False, out=out))
    assert f"Deleted: {people.engagement_id}" in out.getvalue()
    assert all(n == 0 for n in count_rows(client, people, people.engagement_id).values())
    assert count_rows(client, people, recent)["session"] == 1
    (entry,) = [a for a in audit_rows(client, people) if a.action == "engagement.purge"]
    assert entry.actor.startswith("cli:purge:") and entry.engagement_id == people.engagement_id
    assert f"retention {settings.retention_days} days" in entry.target


def test_recent_activity_keeps_an_old_engagement(
    client: TestClient, people: Cast, settings: Settings
) -> None:
    seed_sessions(client, people, SECRET)
    age(client, people, people.engagement_id, settings.retention_days + 100)
    _run(client, seed_sessions_async(people))  # a new session today
    stale = _run(
        client, retention.stale_engagements, people.services.engine, settings.retention_days
    )
    assert stale == []


def seed_sessions_async(people: Cast) -> Callable[[], object]:
    async def go() -> None:
        await people.services.create_session(
            people.engagement_id, "opstartsworkshop", people.users["facilitator"]
        )

    return go


def test_cli_export_writes_a_private_file_once_and_audits(
    client: TestClient, people: Cast, settings: Settings, tmp_path: Path
) -> None:
    seed_sessions(client, people, SECRET)
    target = tmp_path / "out.zip"
    out, err = io.StringIO(), io.StringIO()

    async def export() -> int:
        return await commands.export(settings, people.engagement_id, str(target), out=out, err=err)

    assert _run(client, export) == 0
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    assert zipfile.ZipFile(target).read("engagement.json")
    assert _run(client, export) == 1 and "exists already" in err.getvalue()
    entries = [a for a in audit_rows(client, people) if a.action == "engagement.export"]
    assert len(entries) == 1 and entries[0].actor.startswith("cli:export:")

    async def listing() -> int:
        return await commands.export(settings, None, None, out=out, err=err)

    assert _run(client, listing) == 0 and people.engagement_id in out.getvalue()

    async def missing() -> int:
        return await commands.export(settings, "nope", None, out=out, err=err)

    assert _run(client, missing) == 1


def test_the_cli_knows_export_and_purge() -> None:
    from server.cli import parser

    args = parser().parse_args(["purge", "--dry-run"])
    assert args.dry_run is True
    args = parser().parse_args(["export", "abc", "-o", "x.zip"])
    assert args.engagement_id == "abc" and args.output == "x.zip"


def test_sqlite_runs_with_secure_delete(client: TestClient, people: Cast) -> None:
    async def go() -> int:
        async with people.services.engine.connect() as conn:
            return int((await conn.execute(text("PRAGMA secure_delete"))).scalar() or 0)

    assert _run(client, go) == 1


def test_a_busy_write_ahead_log_is_reported_not_ignored(
    client: TestClient, people: Cast, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reader in a transaction keeps the WAL from being emptied after a
    deletion: the deletion says so (page, CLI, log) instead of claiming it."""
    import sqlite3

    seed_sessions(client, people, SECRET)
    monkeypatch.setattr(retention, "CHECKPOINT_TRIES", 2)
    db_file = settings.db_url.split("///", 1)[1]
    reader = sqlite3.connect(db_file)
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM event").fetchone()  # holds a read snapshot
        deleted = _run(
            client, retention.delete_engagement, people.services.engine, people.engagement_id
        )
        assert isinstance(deleted, retention.Deleted) and deleted.log_cleared is False
    finally:
        reader.close()
    assert _run(client, retention.checkpoint, people.services.engine) is True


def test_names_in_audit_entries_go_with_the_engagement(client: TestClient, people: Cast) -> None:
    from server.privacy.audit import record

    svc, eid = people.services, people.engagement_id

    async def admitted() -> None:
        for action in ("participant.admit", "participant.remove"):
            await record(
                svc.repo,
                action,
                "session:s1 participant:Hanne Sagsbehandler",
                user=people.users["facilitator"],
                engagement_id=eid,
            )

    _run(client, admitted)
    deleted = _run(client, retention.delete_engagement, svc.engine, eid)
    assert isinstance(deleted, retention.Deleted)
    named = [a for a in audit_rows(client, people) if a.action.startswith("participant.")]
    assert len(named) == 2
    for entry in named:
        assert entry.target == "session:s1 participant:…" and entry.engagement_id == eid
