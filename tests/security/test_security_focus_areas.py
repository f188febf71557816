"""Focus areas without case material for those who may not read cases (issue 14).

A focus area proposed from the full-day case meeting's themes starts with the
meeting's cards as its description. Those cards, and the consultation's
comments with the names of who wrote them, are for members who may read
cases. An observer sees the titles (and how many comments there are); a
consultation respondent, who is no member at all, sees the titles and only a
description the coordinator marked as written for sharing.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from typing import Any

import pytest
from docx import Document
from starlette.testclient import TestClient

from server.engagement import store
from server.engine import Actor, ActorRole
from server.engine.commands import AddCard, AddCluster, GoToStep, GroupCard, StartSession
from tests.security.sec_support import Cast, cast, form_token

CARD = "Sag 17: mor blev ikke hørt før anbringelsen"
OTHER_CARD = "Sag 4: drengen talte aldrig alene med rådgiveren"
TITLE = "Barnets stemme i alle afgørelser"
COMMENT = "Skabelonen til børnesamtalen skal være kort."
AUTHOR = "Modtagelsen Vest"
OWN_WORDS = "Børn skal høres, før der træffes afgørelse."


@pytest.fixture
def people(client: TestClient, new_browser: Callable[[], TestClient]) -> Cast:
    return cast(client, new_browser)


def post(c: TestClient, url: str, data: dict[str, Any]) -> Any:
    return c.post(url, data={"csrf": form_token(c), **data})


def text_of(docx_bytes: bytes) -> str:
    doc = Document(io.BytesIO(docx_bytes))
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        parts.extend(cell.text for row in table.rows for cell in row.cells)
    return "\n".join(parts)


def proposed_area(client: TestClient, people: Cast) -> str:
    """A full-day meeting whose theme (two case cards) becomes a focus area, as the
    facilitator proposes it; the area's id."""
    svc, eid = people.services, people.engagement_id
    fac_user = people.users["facilitator"]
    fac = Actor(ActorRole.FACILITATOR, f"user:{fac_user.id}")

    async def meeting() -> str:
        row = await svc.create_session(eid, "heldagsmoede", fac_user)
        live = await svc.live.get(row.id)
        assert live is not None
        for command in (
            StartSession(actor=fac),
            GoToStep(actor=fac, step_id="temaer"),
            AddCard(actor=fac, card_id="k1", text=CARD),
            AddCard(actor=fac, card_id="k2", text=OTHER_CARD),
            AddCluster(actor=fac, cluster_id="t1", title=TITLE),
            GroupCard(actor=fac, card_id="k1", cluster_id="t1"),
            GroupCard(actor=fac, card_id="k2", cluster_id="t1"),
        ):
            assert isinstance(await live.submit(command), list), command
        return row.id

    session_id = client.portal.call(meeting)
    r = post(
        people.browsers["facilitator"],
        f"/engagements/{eid}/sessions/{session_id}/focus-areas",
        {"use_t1": "1", "title_t1": TITLE},
    )
    assert r.status_code == 200
    (area,) = client.portal.call(store.focus_areas_of, svc.repo, eid)
    assert CARD in area.description and not area.description_shared  # cards, as proposed
    return str(area.id)


def test_respondents_and_observers_see_no_case_cards_nor_comments(
    client: TestClient, people: Cast, new_browser: Callable[[], TestClient]
) -> None:
    eid = people.engagement_id
    area_id = proposed_area(client, people)
    coordinator, observer = people.browsers["coordinator"], people.browsers["observer"]

    # The coordinator opens the consultation and sends its link and code.
    r = post(coordinator, f"/engagements/{eid}/consultations", {"days": "12"})
    assert r.status_code == 200
    link = re.search(r"http://testserver(/h/[\w-]+)", r.text)
    code = re.search(r'class="access-code">(\w+)<', r.text)
    assert link and code
    respondent = new_browser()
    r = post(respondent, link.group(1), {"code": code.group(1)})
    assert r.status_code == 200 and TITLE in r.text
    assert CARD not in r.text and OTHER_CARD not in r.text  # the meeting's cards stay inside
    r = post(
        respondent,
        link.group(1) + "/comments",
        {"focus_area_id": area_id, "text": COMMENT, "author": AUTHOR},
    )
    assert r.status_code == 200

    # Those who may read cases see the cards, the comments and who wrote them.
    for who in ("coordinator", "facilitator", "administrator", "admin"):
        page = people.browsers[who].get(f"/engagements/{eid}/focus-areas").text
        assert CARD in page and COMMENT in page and AUTHOR in page, who
    # An observer sees the area and how many comments it has; not what they say or who.
    page = observer.get(f"/engagements/{eid}/focus-areas")
    assert page.status_code == 200 and TITLE in page.text
    for secret in (CARD, OTHER_CARD, COMMENT, AUTHOR):
        assert secret not in page.text, secret
    # Nor in the development plan an observer may download.
    plan = observer.get(f"/engagements/{eid}/plan.docx")
    assert plan.status_code == 200
    assert TITLE in text_of(plan.content) and CARD not in text_of(plan.content)
    assert CARD in text_of(coordinator.get(f"/engagements/{eid}/plan.docx").content)

    # The coordinator rewrites the description in their own words and shares it.
    r = post(
        people.browsers["facilitator"],
        f"/engagements/{eid}/focus-areas/{area_id}",
        {"title": TITLE, "description": OWN_WORDS, "outcome": "", "description_public": "1"},
    )
    assert r.status_code == 200
    shown = respondent.get(link.group(1)).text
    assert OWN_WORDS in shown and CARD not in shown
    assert OWN_WORDS in observer.get(f"/engagements/{eid}/focus-areas").text


def test_an_area_written_by_hand_is_shared_unless_unticked(
    client: TestClient, people: Cast
) -> None:
    eid = people.engagement_id
    fac, observer = people.browsers["facilitator"], people.browsers["observer"]
    post(
        fac,
        f"/engagements/{eid}/focus-areas",
        {"title": "Tidlig indsats", "description": "Vi vil handle før.", "description_public": "1"},
    )
    post(
        fac,
        f"/engagements/{eid}/focus-areas",
        {"title": "Sagsbehandling", "description": "Internt notat om Sag 9."},
    )
    page = observer.get(f"/engagements/{eid}/focus-areas").text
    assert "Vi vil handle før." in page and "Internt notat om Sag 9." not in page
    assert "Internt notat om Sag 9." in fac.get(f"/engagements/{eid}/focus-areas").text
