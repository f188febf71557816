"""Demo data: one facilitator and the Varde engagement, ready to run from start to end.

The engagement comes with an invented, pseudonymised register of 50 cases (20
of them selected for the full-day meeting, each with its reason), the focus
points from the kick-off, the consultants' draft of ten focus areas, and one
session of each kind in the order of the Varde process. The Kvifa sparring
session is created first, so it stays the live session `make demo` prints.

Seeding is idempotent: each part is only added when it is missing, so running
the demo again reuses what is there.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel import select

from server.engagement import cases as case_register
from server.engagement import consultation, demo_data, focus_areas, store
from server.settings import Settings
from server.store.db import make_engine
from server.store.repo import Repo, verify_password
from server.store.tables import Engagement, User
from server.web.services import Services

DEMO_USER = "facilitator"
DEMO_PASSWORD = "tovholder-demo"  # noqa: S105  (demo mode only)
DEMO_ENGAGEMENT = "Sagsgennemgang 2.0, Varde Kommune"
DEMO_SCRIPT = "kvifa"
# The Varde process in order, with the demo's planned date (days from the seeding).
DEMO_SESSIONS: tuple[tuple[str, int, str], ...] = (
    ("opstartsworkshop", 7, "Rådhuset, mødelokale 2"),
    ("heldagsmoede", 42, "Kulturhuset, salen"),
    ("hoering", 49, ""),
    ("implementeringsworkshop", 70, "Kulturhuset, salen"),
    ("styregruppemoede", 77, "Rådhuset, direktionens mødelokale"),
    ("opfoelgningsmoede", 119, "Børn, Unge og Familie"),
    ("praesentation-politikere", 126, "Byrådssalen"),
    ("familieraadslagning", 14, "Familiehuset"),
)


@dataclass(frozen=True)
class DemoInfo:
    session_id: str
    join_code: str
    projector_path: str


async def seed(settings: Settings) -> DemoInfo:
    """Create the demo account, engagement and sessions once; reuse them after."""
    services = Services.open(settings)
    try:
        repo = services.repo
        user = await repo.user_by_name(DEMO_USER)
        if user is None:
            user = await repo.add_user(DEMO_USER, DEMO_PASSWORD, "Demo Facilitator", is_admin=True)
        engagements = await repo.engagements_of(user)
        eng = next((e for e in engagements if e.title == DEMO_ENGAGEMENT), None)
        if eng is None:
            eng = await repo.add_engagement(
                DEMO_ENGAGEMENT, "Varde Kommune", {user.id or 0: "facilitator"}
            )
        sessions = [s for s in await repo.sessions_of(eng.id) if s.status != "ended"]
        row = sessions[0] if sessions else None
        if row is None:
            script_id = (
                DEMO_SCRIPT
                if services.catalog.get(DEMO_SCRIPT)
                else next(iter(services.catalog.scripts))
            )
            row = await services.create_session(eng.id, script_id, user)
        await seed_engagement(services, eng, user)
        return DemoInfo(
            row.id, row.join_code, f"/projector/{row.id}?key={services.projector_key(row.id)}"
        )
    finally:
        await services.close()


async def accounts_with_demo_password(settings: Settings) -> list[str]:
    """Usernames whose password is still the demo's, which is printed in the
    README: `serve` refuses to start outside demo mode while there is one. Each
    check is an argon2 verify (~0.2 s), in threads, before anyone is served."""
    engine = make_engine(settings.db_url)
    try:
        async with Repo(engine).sessions() as db:
            users = list((await db.exec(select(User))).all())
    finally:
        await engine.dispose()
    checks = [asyncio.to_thread(verify_password, u.password_hash, DEMO_PASSWORD) for u in users]
    found = await asyncio.gather(*checks)
    return sorted(user.username for user, demo in zip(users, found, strict=True) if demo)


async def seed_engagement(services: Services, eng: Engagement, user: User) -> None:
    """The register, the focus areas and one session of each kind, where missing."""
    repo = services.repo
    today = date.today()
    settings = await store.settings_of(repo, eng.id)
    if not settings.focus_points:
        await store.save_settings(
            repo,
            eng.id,
            starts_on=today.isoformat(),
            steering_every_weeks=8,
            steering_meetings=3,
            follow_up_every_weeks=7,
            selection_target=20,
            focus_points="\n".join(demo_data.FOCUS_POINTS),
        )
    if not await store.cases_of(repo, eng.id):
        result = await case_register.import_cases(
            repo, eng.id, demo_data.register_csv(with_selection=True)
        )
        assert result.ok, [m.text for m in result.errors]
    if not await store.focus_areas_of(repo, eng.id):
        for title, description in demo_data.FOCUS_AREAS:
            await focus_areas.add_focus_area(repo, eng.id, title, description)
    existing = {s.script_id for s in await repo.sessions_of(eng.id)}
    for script_id, days, place in DEMO_SESSIONS:
        if script_id in existing or services.catalog.get(script_id) is None:
            continue
        row = await services.create_session(eng.id, script_id, user)
        await store.plan_session(repo, row.id, (today + timedelta(days=days)).isoformat(), place)
        if script_id == "hoering":
            opened = await consultation.open_consultation(
                repo,
                eng.id,
                title=row.title,
                days=consultation.default_days(services.catalog.get(script_id)),
                session_id=row.id,
                user_id=user.id,
            )
            areas = await store.focus_areas_of(repo, eng.id)
            for index, text, author in demo_data.DEMO_COMMENTS:
                await consultation.add_comment(
                    repo,
                    opened.consultation,
                    focus_area_id=areas[index].id,
                    text=text,
                    author=author,
                )
