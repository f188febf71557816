"""`tovholder export` and `tovholder purge`: the command-line side of retention.

Both write to the audit log, as the web pages do; the actor is the operating
system user who ran the command.
"""

from __future__ import annotations

import asyncio
import getpass
import os
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from sqlmodel import col, select

from server.privacy import audit, retention
from server.settings import Settings
from server.store.db import make_engine
from server.store.repo import Repo
from server.store.tables import Engagement


def _actor(what: str) -> str:
    try:
        who = getpass.getuser()
    except (KeyError, OSError):  # no user name in this environment
        who = str(os.getuid()) if hasattr(os, "getuid") else "?"
    return f"cli:{what}:{who}"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()[:60] or "engagement"


async def _list(repo: Repo, out: TextIO) -> int:
    async with repo.sessions() as db:
        rows = (await db.exec(select(Engagement).order_by(col(Engagement.created_at)))).all()
    if not rows:
        print("No engagements.", file=out)
    for eng in rows:
        print(f"{eng.id}  {eng.created_at:%Y-%m-%d}  {eng.title}", file=out)
    return 0


async def export(
    settings: Settings,
    engagement_id: str | None,
    output: str | None,
    *,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> int:
    engine = make_engine(settings.db_url)
    try:
        repo = Repo(engine)
        if not engagement_id:
            return await _list(repo, out)
        result = await retention.export_engagement(engine, engagement_id)
        if result is None:
            print(f"tovholder: no engagement has the id {engagement_id!r}", file=err)
            return 1
        stamp = datetime.now(UTC).strftime("%Y%m%d")
        path = Path(output or f"tovholder-{_slug(result.title)}-{stamp}.zip")
        try:
            # Case material: readable by the owner only, and never over another file.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            print(f"tovholder: {path} exists already; give another file with -o", file=err)
            return 1
        with os.fdopen(fd, "wb") as f:
            f.write(result.archive)
        await audit.record(
            repo,
            "engagement.export",
            f"{result.title} ({retention.describe(result.counts)}) to {path.name}",
            actor=_actor("export"),
            engagement_id=engagement_id,
        )
        print(
            f"Exported {result.title!r} to {path} ({retention.describe(result.counts)}).", file=out
        )
        print("The archive holds case material: keep it as the case files are kept.", file=out)
        return 0
    finally:
        await engine.dispose()


async def purge(
    settings: Settings,
    dry_run: bool,
    *,
    now: datetime | None = None,
    out: TextIO = sys.stdout,
) -> int:
    engine = make_engine(settings.db_url)
    try:
        repo = Repo(engine)
        stale = await retention.stale_engagements(engine, settings.retention_days, now=now)
        verb = "Would delete" if dry_run else "Deleted"
        if not stale:
            print(f"No engagement is older than {settings.retention_days} days.", file=out)
        for item in stale:
            line = (
                f"{item.engagement_id}  last activity {item.last_activity:%Y-%m-%d}  {item.title}"
            )
            if dry_run:
                print(f"{verb}: {line}", file=out)
                continue
            deleted = await retention.delete_engagement(engine, item.engagement_id)
            if deleted is None:
                continue
            await audit.record(
                repo,
                "engagement.purge",
                f"{deleted.title} ({retention.describe(deleted.counts)}), "
                f"retention {settings.retention_days} days",
                actor=_actor("purge"),
                engagement_id=item.engagement_id,
            )
            print(f"{verb}: {line} ({retention.describe(deleted.counts)})", file=out)
            if not deleted.log_cleared:
                print(
                    "  The database's write-ahead log was busy: it is emptied when the "
                    "server next stops (until then it may hold a copy of the deleted rows).",
                    file=out,
                )
        return 0
    finally:
        await engine.dispose()


def run_export(settings: Settings, engagement_id: str | None, output: str | None) -> int:
    return asyncio.run(export(settings, engagement_id, output))


def run_purge(settings: Settings, dry_run: bool) -> int:
    return asyncio.run(purge(settings, dry_run))
