"""Demo data: one facilitator, the Varde engagement and one ready session."""

from __future__ import annotations

from dataclasses import dataclass

from server.settings import Settings
from server.web.services import Services

DEMO_USER = "facilitator"
DEMO_PASSWORD = "tovholder-demo"  # noqa: S105  (demo mode only)
DEMO_ENGAGEMENT = "Sagsgennemgang 2.0, Varde Kommune"
DEMO_SCRIPT = "kvifa"


@dataclass(frozen=True)
class DemoInfo:
    session_id: str
    join_code: str
    projector_path: str


async def seed(settings: Settings) -> DemoInfo:
    """Create the demo account, engagement and session once; reuse them after."""
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
        return DemoInfo(
            row.id, row.join_code, f"/projector/{row.id}?key={services.projector_key(row.id)}"
        )
    finally:
        await services.close()
