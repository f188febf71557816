"""The status note (statusnotat): a first draft that gathers the whole engagement.

The Varde process ends with a 15-20 page note: the process, the case review's
findings, the focus areas, the prioritised plan. This draft gathers what the
sessions produced, in that order, as a DOCX the consultants write on from:

1. the process: sessions in order with dates, the members, the cadences;
2. the focus points from the kick-off;
3. the case review: how many cases, the selected ones with their reason,
   learning question and the learnings noted at the full-day meeting;
4. the themes across cases;
5. the focus areas, with the consultation's comments;
6. the prioritised development plan (Formål ... Status per row);
7. the status of every row, with how it moved;
8. the next meetings and their goals.

Case texts in it are the pseudonymised register's; reading them is audited by
the caller.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from docx.document import Document

from server.engagement import store
from server.engagement.consultation import comments_by_area
from server.engagement.plan import AreaPlan, plan_of
from server.engagement.sessions import CaseLearnings, Theme, learnings, themes
from server.engagement.status import history
from server.engagement.timeline import Timeline, timeline
from server.engine import SessionState
from server.minutes import fmt
from server.minutes.docx_common import (
    DRAFT_RED,
    add_bullets,
    add_key_value_table,
    add_kicker,
    add_meta,
    add_table,
    start_document,
    to_bytes,
    write_text,
)
from server.minutes.labels import labels_for
from server.scripts.schema import SessionType
from server.store.repo import Repo
from server.store.tables import (
    Case,
    ConsultationComment,
    Engagement,
    EngagementSettings,
    PlanStatusUpdate,
)

TEXTS: Mapping[str, Mapping[str, str]] = {
    "da": {
        "title": "Statusnotat",
        "kicker": "Udkast til statusnotat, samlet af Tovholder",
        "draft_notice": "samlet automatisk fra forløbets møder. Vurderinger og anbefalinger skrives af konsulenterne, før notatet sendes.",
        "municipality": "Kommune",
        "date": "Dato",
        "process": "Forløbet",
        "process_intro": "Forløbet har indtil nu omfattet {n} møder:",
        "session": "Møde",
        "when": "Dato",
        "state": "Status",
        "planned": "planlagt",
        "running": "i gang",
        "ended": "afholdt",
        "members": "Deltagere i forløbet",
        "steering": "Styregruppen",
        "steering_line": "Styregruppen har holdt {held} af {planned} møder.",
        "every": "Styregruppen mødes hver {n}. uge.",
        "follow_up_every": "Der følges op hver {n}. uge.",
        "next_on": "Næste møde: {date}.",
        "focus_points": "Fokuspunkter for sagsgennemgangen",
        "focus_points_intro": "Opstartsworkshoppen pegede på disse fokuspunkter, som styrede udvælgelsen af sagerne:",
        "no_focus_points": "Fokuspunkterne er ikke skrevet ind endnu.",
        "case_review": "Sagsgennemgangen",
        "case_review_intro": "{n} sager er gennemgået, og {m} af dem er udvalgt og drøftet på heldagsmødet.",
        "reason": "Begrundelse for udvælgelse",
        "learning_question": "Læringsspørgsmål",
        "learnings": "Læringer fra heldagsmødet",
        "no_learnings": "Ingen læringer noteret.",
        "themes": "Temaer på tværs af sagerne",
        "no_themes": "Heldagsmødets temaer er ikke samlet endnu.",
        "focus_areas": "Indsatsområder",
        "focus_areas_intro": "Temaerne blev til {n} forslag til indsatsområder, som har været i høring.",
        "outcome": "Efter høringen",
        "comments": "Høringssvar ({n})",
        "no_comments": "Ingen høringssvar.",
        "plan": "Prioriteret udviklingsplan",
        "plan_intro": "Implementeringsworkshoppen prioriterede indsatsområderne og satte tidsperspektiv og ansvarlig for hvert.",
        "no_plan": "Udviklingsplanen er ikke skrevet endnu.",
        "priority": "Prioritet",
        "horizon": "Tidsperspektiv",
        "owner": "Ansvarlig",
        "row": "Række {n}",
        "fields": "Formål|Aktivitet|Mål|Aktører|Tidsplan og opfølgning|Status",
        "status": "Status pr. række",
        "area": "Indsatsområde",
        "activity": "Aktivitet",
        "updated": "Senest ændret",
        "moves": "Sådan har status flyttet sig",
        "no_moves": "Ingen statusændringer endnu.",
        "next": "Næste skridt",
        "agreed": "Aftalt på seneste opfølgningsmøde: næste møde {date}.",
        "goals": "Mål til da:",
        "no_next": "Næste møde er ikke aftalt endnu.",
        "file": "statusnotat",
    },
    "en": {
        "title": "Status note",
        "kicker": "Draft status note, gathered by Tovholder",
        "draft_notice": "gathered automatically from the engagement's sessions. The consultants write the assessments and recommendations before it is sent.",
        "municipality": "Municipality",
        "date": "Date",
        "process": "The process",
        "process_intro": "So far the engagement has had {n} sessions:",
        "session": "Session",
        "when": "Date",
        "state": "Status",
        "planned": "planned",
        "running": "running",
        "ended": "held",
        "members": "Members of the engagement",
        "steering": "The steering group",
        "steering_line": "The steering group has held {held} of {planned} meetings.",
        "every": "The steering group meets every {n} weeks.",
        "follow_up_every": "Follow-up every {n} weeks.",
        "next_on": "Next meeting: {date}.",
        "focus_points": "Focus points of the case review",
        "focus_points_intro": "The kick-off workshop agreed these focus points, which steered the selection of cases:",
        "no_focus_points": "The focus points have not been written down yet.",
        "case_review": "The case review",
        "case_review_intro": "{n} cases were reviewed; {m} of them were selected and discussed at the full-day meeting.",
        "reason": "Why it was selected",
        "learning_question": "Learning question",
        "learnings": "Learnings from the full-day meeting",
        "no_learnings": "No learnings noted.",
        "themes": "Themes across the cases",
        "no_themes": "The full-day meeting's themes have not been gathered yet.",
        "focus_areas": "Focus areas",
        "focus_areas_intro": "The themes became {n} proposed focus areas, which went to consultation.",
        "outcome": "After the consultation",
        "comments": "Consultation comments ({n})",
        "no_comments": "No comments.",
        "plan": "Prioritised development plan",
        "plan_intro": "The implementation workshop prioritised the focus areas and set a time horizon and an owner for each.",
        "no_plan": "The development plan has not been written yet.",
        "priority": "Priority",
        "horizon": "Time horizon",
        "owner": "Owner",
        "row": "Row {n}",
        "fields": "Purpose|Activity|Goal|Actors|Schedule and follow-up|Status",
        "status": "Status per row",
        "area": "Focus area",
        "activity": "Activity",
        "updated": "Last changed",
        "moves": "How the status moved",
        "no_moves": "No status changes yet.",
        "next": "Next steps",
        "agreed": "Agreed at the last follow-up meeting: next meeting {date}.",
        "goals": "Goals to reach by then:",
        "no_next": "The next meeting has not been agreed yet.",
        "file": "status-note",
    },
}


# The document's own names for codes, as the minutes' label tables do (a document is
# complete in its language whatever the interface's catalogs hold).
NAMES: Mapping[str, Mapping[str, str]] = {
    "da": {
        "not_started": "ikke startet",
        "on_track": "på sporet",
        "delayed": "forsinket",
        "stopped": "stoppet",
        "done": "gennemført",
        "short": "kort sigt",
        "medium": "mellemlangt sigt",
        "long": "langt sigt",
        "unchanged": "uændret",
        "adjusted": "justeret",
        "dropped": "udgået",
    },
    "en": {
        "not_started": "not started",
        "on_track": "on track",
        "delayed": "delayed",
        "stopped": "stopped",
        "done": "done",
        "short": "short term",
        "medium": "medium term",
        "long": "long term",
        "unchanged": "unchanged",
        "adjusted": "adjusted",
        "dropped": "dropped",
    },
}


def names(language: str) -> Mapping[str, str]:
    """Status, horizon and outcome codes by name, in the document's language."""
    return NAMES["en" if language == "en" else "da"]


@dataclass(frozen=True)
class NoteData:
    engagement: Engagement
    settings: EngagementSettings
    members: tuple[store.Member, ...]
    timeline: Timeline
    cases: tuple[Case, ...]
    learnings: Mapping[str, tuple[str, ...]]  # case id -> learnings noted
    themes: tuple[Theme, ...]
    plan: tuple[AreaPlan, ...]  # every focus area, dropped ones too
    comments: Mapping[str, list[ConsultationComment]]
    history: Mapping[str, list[PlanStatusUpdate]]
    session_titles: Mapping[str, str]
    today: dt.date


async def gather(
    repo: Repo,
    eng: Engagement,
    state_of: Callable[[str], Awaitable[SessionState | None]],
    *,
    today: dt.date | None = None,
) -> NoteData:
    today = today or dt.date.today()
    line = await timeline(repo, eng.id, state_of, today=today)
    found: dict[str, list[str]] = {}
    found_themes: list[Theme] = []
    for item in line.items:
        if item.session_type != SessionType.CASE_MEETING:
            continue
        state = await state_of(item.session.id)
        if state is None:
            continue
        per_case: list[CaseLearnings] = learnings(state)
        for entry in per_case:
            found.setdefault(entry.case.id, []).extend(c.text for c in entry.cards)
        found_themes.extend(themes(state))
    return NoteData(
        engagement=eng,
        settings=await store.settings_of(repo, eng.id),
        members=tuple(await store.members_of(repo, eng.id)),
        timeline=line,
        cases=tuple(await store.cases_of(repo, eng.id)),
        learnings={k: tuple(v) for k, v in found.items()},
        themes=tuple(found_themes),
        plan=tuple(await plan_of(repo, eng.id, include_dropped=True)),
        comments=await comments_by_area(repo, eng.id),
        history=await history(repo, eng.id),
        session_titles={i.session.id: i.session.title for i in line.items},
        today=today,
    )


def file_name(data: NoteData, language: str) -> str:
    texts = TEXTS["en" if language == "en" else "da"]
    return f"{texts['file']}-{data.today.isoformat()}.docx"


def status_note_docx(data: NoteData, language: str = "da") -> bytes:
    lang = "en" if language == "en" else "da"
    t = TEXTS[lang]
    named = names(lang)

    def gettext(code: str) -> str:
        return named.get(code, code)

    labels = labels_for(lang)
    eng = data.engagement
    title = f"{t['title']} – {eng.title}"
    doc = start_document(title, lang, labels, is_draft=True)
    write_text(doc.add_heading(level=0), title)
    add_kicker(doc, t["kicker"])
    notice = doc.add_paragraph()
    run = notice.add_run(f"{labels.draft}: ")
    run.bold = True
    run.font.color.rgb = DRAFT_RED
    notice.add_run(t["draft_notice"]).font.color.rgb = DRAFT_RED
    meta = [(t["date"], fmt.long_date(data.today, lang))]
    if eng.municipality:
        meta.insert(0, (t["municipality"], eng.municipality))
    add_meta(doc, meta)

    _process(doc, data, t, lang)
    _focus_points(doc, data, t)
    _case_review(doc, data, t)
    _themes(doc, data, t)
    _focus_areas(doc, data, t, gettext)
    _plan(doc, data, t, gettext)
    _status(doc, data, t, gettext, lang)
    _next(doc, data, t, lang)
    return to_bytes(doc)


def _heading(doc: Document, number: int, text: str) -> None:
    write_text(doc.add_heading(level=1), f"{number}. {text}")


def _process(doc: Document, data: NoteData, t: Mapping[str, str], lang: str) -> None:
    _heading(doc, 1, t["process"])
    items = data.timeline.items
    doc.add_paragraph(t["process_intro"].format(n=len(items)))
    rows = [
        (
            str(i),
            item.session.title,
            fmt.short_date(item.when, lang) if item.when else "",
            t.get(item.session.status, item.session.status),
        )
        for i, item in enumerate(items, start=1)
    ]
    if rows:
        add_table(doc, ("#", t["session"], t["when"], t["state"]), rows, (1.0, 9.6, 3.0, 2.8))
    if data.members:
        write_text(doc.add_heading(level=2), t["members"])
        add_bullets(doc, [m.name for m in data.members])
    steering = data.timeline.steering
    lines = []
    if steering.meetings:
        lines.append(t["steering_line"].format(held=steering.held, planned=steering.meetings))
    if steering.every_weeks:
        lines.append(t["every"].format(n=steering.every_weeks))
    if steering.next_on:
        lines.append(t["next_on"].format(date=fmt.long_date(steering.next_on, lang)))
    if lines:
        write_text(doc.add_heading(level=2), t["steering"])
        doc.add_paragraph(" ".join(lines))


def _focus_points(doc: Document, data: NoteData, t: Mapping[str, str]) -> None:
    _heading(doc, 2, t["focus_points"])
    points = [p.strip() for p in data.settings.focus_points.split("\n") if p.strip()]
    if points:
        doc.add_paragraph(t["focus_points_intro"])
        add_bullets(doc, points, numbered=True)
    else:
        doc.add_paragraph(t["no_focus_points"])


def _case_review(doc: Document, data: NoteData, t: Mapping[str, str]) -> None:
    _heading(doc, 3, t["case_review"])
    selected = [c for c in data.cases if c.selected]
    doc.add_paragraph(t["case_review_intro"].format(n=len(data.cases), m=len(selected)))
    for case in selected:
        write_text(doc.add_heading(level=2), case.label)
        facts = [(t["reason"], case.selection_reason or "–")]
        if case.learning_question:
            facts.append((t["learning_question"], case.learning_question))
        add_key_value_table(doc, facts, (4.4, 12.0))
        noted = data.learnings.get(case.id, ())
        paragraph = doc.add_paragraph()
        paragraph.add_run(t["learnings"]).bold = True
        paragraph.paragraph_format.keep_with_next = bool(noted)
        if noted:
            add_bullets(doc, list(noted))
        else:
            doc.add_paragraph(t["no_learnings"])


def _themes(doc: Document, data: NoteData, t: Mapping[str, str]) -> None:
    _heading(doc, 4, t["themes"])
    if not data.themes:
        doc.add_paragraph(t["no_themes"])
    for theme in data.themes:
        write_text(doc.add_heading(level=2), theme.title)
        if theme.cards:
            add_bullets(doc, list(theme.cards))


def _focus_areas(
    doc: Document, data: NoteData, t: Mapping[str, str], gettext: Callable[[str], str]
) -> None:
    _heading(doc, 5, t["focus_areas"])
    doc.add_paragraph(t["focus_areas_intro"].format(n=len(data.plan)))
    for number, item in enumerate(data.plan, start=1):
        area = item.area
        write_text(doc.add_heading(level=2), f"{number}. {area.title}")
        if area.outcome:
            paragraph = doc.add_paragraph()
            paragraph.add_run(f"{t['outcome']}: ").bold = True
            paragraph.add_run(gettext(area.outcome))
        if area.description:
            write_text(doc.add_paragraph(), area.description)
        comments = data.comments.get(area.id, [])
        paragraph = doc.add_paragraph()
        paragraph.add_run(t["comments"].format(n=len(comments))).bold = True
        if comments:
            paragraph.paragraph_format.keep_with_next = True
            add_bullets(doc, [f"{c.text} ({c.author})" if c.author else c.text for c in comments])


def _plan(
    doc: Document, data: NoteData, t: Mapping[str, str], gettext: Callable[[str], str]
) -> None:
    _heading(doc, 6, t["plan"])
    planned = [i for i in data.plan if i.area.outcome != "dropped" and i.rows]
    if not planned:
        doc.add_paragraph(t["no_plan"])
        return
    doc.add_paragraph(t["plan_intro"])
    field_labels = t["fields"].split("|")
    for number, item in enumerate(planned, start=1):
        area = item.area
        write_text(doc.add_heading(level=2), f"{number}. {area.title}")
        facts = []
        if area.priority is not None:
            facts.append((t["priority"], str(area.priority)))
        if area.horizon:
            facts.append((t["horizon"], gettext(area.horizon)))
        facts.append((t["owner"], ", ".join(dict.fromkeys(r.owner for r in item.rows))))
        paragraph = doc.add_paragraph()
        paragraph.paragraph_format.keep_with_next = True
        for index, (label, value) in enumerate(facts):
            paragraph.add_run(("  ·  " if index else "") + f"{label}: ")
            paragraph.add_run(value).bold = True
        for index, row in enumerate(item.rows, start=1):
            if len(item.rows) > 1:
                doc.add_paragraph().add_run(t["row"].format(n=index)).bold = True
            status = gettext(row.status)
            values = (
                row.purpose,
                row.activity,
                row.goal,
                row.actors,
                row.schedule,
                f"{status}: {row.status_note}" if row.status_note else status,
            )
            add_key_value_table(
                doc,
                [(label, value or "–") for label, value in zip(field_labels, values, strict=True)],
                (4.4, 12.0),
            )


def _status(
    doc: Document,
    data: NoteData,
    t: Mapping[str, str],
    gettext: Callable[[str], str],
    lang: str,
) -> None:
    _heading(doc, 7, t["status"])
    table = []
    moves: list[str] = []
    for item in data.plan:
        for row in item.rows:
            status = gettext(row.status)
            table.append(
                (
                    item.area.title,
                    row.activity or "–",
                    row.owner,
                    f"{status}: {row.status_note}" if row.status_note else status,
                    fmt.short_date(row.updated_at.date(), lang),
                )
            )
            for update in data.history.get(row.id, []):
                where = data.session_titles.get(update.session_id or "", "")
                moved = gettext(update.status)
                text = f"{fmt.short_date(update.at.date(), lang)}, {item.area.title}: {moved}"
                if where:
                    text += f" ({where})"
                if update.note:
                    text += f". {update.note}"
                moves.append(text)
    if not table:
        doc.add_paragraph(t["no_plan"])
        return
    add_table(
        doc,
        (t["area"], t["activity"], t["owner"], t["state"], t["updated"]),
        table,
        (3.8, 4.6, 2.6, 3.4, 2.0),
    )
    write_text(doc.add_heading(level=2), t["moves"])
    if moves:
        add_bullets(doc, moves)
    else:
        doc.add_paragraph(t["no_moves"])


def _next(doc: Document, data: NoteData, t: Mapping[str, str], lang: str) -> None:
    _heading(doc, 8, t["next"])
    agreed = data.timeline.follow_up.agreed
    if agreed is None:
        doc.add_paragraph(t["no_next"])
    else:
        doc.add_paragraph(t["agreed"].format(date=agreed.date))
        if agreed.goals:
            doc.add_paragraph(t["goals"])
            add_bullets(doc, list(agreed.goals))
    steering = data.timeline.steering
    if steering.next_on:
        doc.add_paragraph(
            f"{t['steering']}: {t['next_on'].format(date=fmt.long_date(steering.next_on, lang))}"
        )
