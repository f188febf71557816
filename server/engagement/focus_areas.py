"""Focus areas (indsatsområder): proposed from the full-day meeting's themes.

The clusters of the meeting's theme brainstorm become proposed focus areas
(8-12 in the Varde process); the coordinator may retitle them, add one that
the room missed, and after the consultation mark each as unchanged, adjusted
or dropped. A dropped area is kept (the status note says it was dropped) but
no longer carried into later sessions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlmodel import select

from server.engagement import store
from server.engagement.common import N_, Msg, clean_text, masked_note, msg_n, refuse
from server.engagement.sessions import themes
from server.engine import SessionState
from server.store.repo import Repo, new_id
from server.store.tables import FocusArea

TITLE_MAX = 200
DESCRIPTION_MAX = 4000
FEWEST, MOST = 8, 12
OUTCOMES = ("", "unchanged", "adjusted", "dropped")
OUTCOME_NAMES: Mapping[str, str] = {
    "": N_("not decided yet"),
    "unchanged": N_("unchanged"),
    "adjusted": N_("adjusted"),
    "dropped": N_("dropped"),
}


def count_note(count: int) -> Msg | None:
    """A reminder when the engagement has fewer than 8 or more than 12 focus areas."""
    if count and not FEWEST <= count <= MOST:
        return msg_n(
            "There is %(num)d focus area; the process expects 8 to 12. Merge or split themes if you can.",
            "There are %(num)d focus areas; the process expects 8 to 12. Merge or split themes if you can.",
            count,
        )
    return None


@dataclass(frozen=True)
class ProposeResult:
    created: int
    updated: int
    notes: tuple[Msg, ...]


async def propose_from_session(
    repo: Repo,
    engagement_id: str,
    session_id: str,
    state: SessionState,
    titles: Mapping[str, str],
) -> ProposeResult:
    """Make the chosen clusters (cluster id -> title as the coordinator wrote it) focus areas.

    Proposing again updates the titles of the areas made from the same
    clusters, so a second click does not duplicate anything.
    """
    offered = {t.cluster_id: t for t in themes(state)}
    chosen = [(cid, title) for cid, title in titles.items() if cid in offered]
    if not chosen:
        raise refuse(N_("Choose at least one theme to propose as a focus area."))
    cleaned = []
    masked = 0
    for cluster_id, title in chosen:
        text = clean_text(title or offered[cluster_id].title, TITLE_MAX, "title", one_line=True)
        if not text.text:
            raise refuse(N_("A focus area needs a title."))
        masked += text.masked
        cleaned.append((cluster_id, text.text, offered[cluster_id].cards))
    created = updated = 0
    async with repo.sessions() as db:
        existing = list(
            (await db.exec(select(FocusArea).where(FocusArea.engagement_id == engagement_id))).all()
        )
        by_cluster = {
            (a.source_session_id, a.source_cluster_id): a for a in existing if a.source_cluster_id
        }
        titles_taken = {a.title.casefold(): a for a in existing}
        position = max((a.position for a in existing), default=0)
        for cluster_id, title, cards in cleaned:
            area = by_cluster.get((session_id, cluster_id))
            if area is None:
                twin = titles_taken.get(title.casefold())
                if twin is not None:
                    raise refuse(
                        N_("There is already a focus area called “%(title)s”."), title=title
                    )
                position += 1
                area = FocusArea(
                    id=new_id(),
                    engagement_id=engagement_id,
                    title=title,
                    description=_description(cards),
                    position=position,
                    source_session_id=session_id,
                    source_cluster_id=cluster_id,
                )
                created += 1
            else:
                area.title = title
                updated += 1
            titles_taken[title.casefold()] = area
            db.add(area)
        await db.commit()
    notes: list[Msg] = []
    if masked:
        notes.append(masked_note(masked))
    areas = await store.focus_areas_of(repo, engagement_id, include_dropped=False)
    if note := count_note(len(areas)):
        notes.append(note)
    return ProposeResult(created, updated, tuple(notes))


def _description(cards: tuple[str, ...]) -> str:
    """The theme's cards as the area's first description (the coordinator rewrites it)."""
    lines = [f"– {text}" for text in cards[:30]]
    return "\n".join(lines)[:DESCRIPTION_MAX]


async def add_focus_area(
    repo: Repo, engagement_id: str, title: object, description: object
) -> tuple[FocusArea, tuple[Msg, ...]]:
    name = clean_text(title, TITLE_MAX, "title", required=True, one_line=True)
    text = clean_text(description, DESCRIPTION_MAX, "description")
    async with repo.sessions() as db:
        existing = list(
            (await db.exec(select(FocusArea).where(FocusArea.engagement_id == engagement_id))).all()
        )
        if any(a.title.casefold() == name.text.casefold() for a in existing):
            raise refuse(N_("There is already a focus area called “%(title)s”."), title=name.text)
        area = FocusArea(
            id=new_id(),
            engagement_id=engagement_id,
            title=name.text,
            description=text.text,
            position=max((a.position for a in existing), default=0) + 1,
        )
        db.add(area)
        await db.commit()
        await db.refresh(area)
    notes = [masked_note(name.masked + text.masked)] if name.masked + text.masked else []
    return area, tuple(notes)


async def edit_focus_area(
    repo: Repo,
    engagement_id: str,
    area_id: str,
    *,
    title: object,
    description: object,
    outcome: object,
) -> tuple[Msg, ...]:
    name = clean_text(title, TITLE_MAX, "title", required=True, one_line=True)
    text = clean_text(description, DESCRIPTION_MAX, "description")
    result = outcome if isinstance(outcome, str) else ""
    if result not in OUTCOMES:
        raise refuse(N_("Choose unchanged, adjusted or dropped."))
    async with repo.sessions() as db:
        area = await db.get(FocusArea, area_id)
        if area is None or area.engagement_id != engagement_id:
            raise refuse(N_("That focus area does not exist."))
        others = (
            await db.exec(
                select(FocusArea).where(
                    FocusArea.engagement_id == engagement_id, FocusArea.id != area_id
                )
            )
        ).all()
        if any(a.title.casefold() == name.text.casefold() for a in others):
            raise refuse(N_("There is already a focus area called “%(title)s”."), title=name.text)
        area.title = name.text
        area.description = text.text
        area.outcome = result
        db.add(area)
        await db.commit()
    masked = name.masked + text.masked
    return (masked_note(masked),) if masked else ()
