"""build_minutes / build_plan: the record of sessions driven through the real engine.

Sessions here run the shipped scripts (facilitation_scripts/*.yaml) through
decide/apply on a fixed clock, so the golden Markdown is stable.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import docx
import pytest

from server.engine import Actor, ActorRole, CommandRejected, SessionState, apply_all, decide, replay
from server.engine.commands import (
    AddAction,
    AddCard,
    AddCluster,
    AgreeNextMeeting,
    EditAction,
    EditDecision,
    EndSession,
    GoToStep,
    GroupCard,
    Join,
    NextStep,
    RecordDecision,
    SetCaseOwner,
    SetRole,
    StartSession,
    WithdrawCard,
)
from server.engine.events import SessionCreated, from_record, to_record
from server.engine.registry import Command, Event
from server.engine.steps.case_walkthrough import NextCase
from server.engine.steps.poll import AssignHorizon, CastBallot, ClosePoll, OpenPoll, StartRunoff
from server.minutes.build import (
    DEFAULT_TIME,
    build_minutes,
    build_plan,
    parse_due,
    parse_meeting,
    prioritisation,
)
from server.minutes.csv import actions_csv, decisions_csv, to_json
from server.minutes.docx import render_docx
from server.minutes.fmt import LOCAL_TZ
from server.minutes.ics import render_ics
from server.minutes.journal_note import render_journal_note
from server.minutes.markdown import render_markdown
from server.minutes.model import Horizon, Minutes, PlanRow
from server.minutes.pdf import render_pdf
from server.minutes.plan import plan_csv, plan_docx, plan_pdf
from server.scripts.loader import load_script

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "facilitation_scripts"
GOLDEN = Path(__file__).parent / "golden" / "kvifa_session.md"
FAC = Actor(ActorRole.FACILITATOR, "user:1")
KVIFA_START = dt.datetime(2025, 3, 4, 9, 0, tzinfo=LOCAL_TZ).timestamp()

KVIFA_CASE = {
    "id": "k17",
    "label": "Sag 17",
    "learning_question": (
        "Hvordan sikrer vi, at drengens egne ønsker til samvær vægtes, når forældrene er uenige?"
    ),
}


def p(pid: str) -> Actor:
    return Actor(ActorRole.PARTICIPANT, pid)


class Run:
    """A session driven through decide/apply on a clock the test moves."""

    def __init__(
        self,
        script: str | dict[str, Any],
        *,
        start: float = KVIFA_START,
        cases: tuple[dict[str, str], ...] = (),
        focus_areas: tuple[dict[str, str], ...] = (),
    ) -> None:
        data = (
            load_script(SCRIPTS / f"{script}.yaml").model_dump(mode="json")
            if isinstance(script, str)
            else script
        )
        created = SessionCreated(
            at=start, session_id="s1", script=data, cases=cases, focus_areas=focus_areas
        )
        self.log: list[Event] = [created]
        self.state: SessionState = replay(self.log)
        self.now = start

    def wait(self, minutes: float) -> None:
        self.now += minutes * 60

    def do(self, cmd: Command) -> list[Event]:
        out = decide(self.state, cmd, self.now)
        assert not isinstance(out, CommandRejected), out
        self.log.extend(out)
        self.state = apply_all(self.state, out)
        return out

    def try_do(self, cmd: Command) -> list[Event] | CommandRejected:
        out = decide(self.state, cmd, self.now)
        if not isinstance(out, CommandRejected):
            self.log.extend(out)
            self.state = apply_all(self.state, out)
        return out

    def enter(self, pid: str, name: str | None) -> None:
        """Join; through the lobby (ask, then be let in) where the meeting has one."""
        out = self.try_do(Join(actor=p(pid), name=name))
        if isinstance(out, CommandRejected) and out.code == "lobby":
            from server.engine import lobby  # only in sessions whose script has a lobby

            self.do(lobby.AskToJoin(actor=p(pid), name=name or ""))
            self.do(lobby.Admit(actor=FAC, participant_id=pid))
        else:
            assert not isinstance(out, CommandRejected), out

    def next(self, after_minutes: float) -> None:
        self.wait(after_minutes)
        self.do(NextStep(actor=FAC, from_step=self.state.step_id))


def kvifa_run(*, end: bool = True) -> Run:
    """A whole Kvifa sparring round on Sag 17, as a team would run it."""
    run = Run("kvifa", cases=(KVIFA_CASE,))
    for pid, name in (
        ("p-mette", "Mette Søgaard"),
        ("p-joergen", "Jørgen Ålund"),
        ("p-soeren", "Søren Bøgh"),
        ("p-aase", "Åse Kjærgaard"),
        ("p-line", "Line"),
    ):
        run.enter(pid, name)
    run.do(StartSession(actor=FAC))
    run.do(SetCaseOwner(actor=FAC, participant_id="p-mette"))
    run.do(SetRole(actor=FAC, participant_id="p-joergen", role="coordinator"))
    run.next(8.5)  # spørgerunde
    run.next(9)  # refleksionsrunde
    run.next(12)  # løsningsforslag
    run.wait(2)
    run.do(AddCard(actor=p("p-soeren"), card_id="c1", text="Netværksmøde med skole og PPR"))
    run.do(AddCard(actor=p("p-aase"), card_id="c2", text="Børnesamtale på skolen"))
    run.do(AddCard(actor=p("p-line"), card_id="c3", text="Et forslag, der blev trukket"))
    run.do(
        AddCard(actor=p("p-joergen"), card_id="c4", text="Familiebehandling med fokus på søskende")
    )
    run.do(WithdrawCard(actor=p("p-line"), card_id="c3"))
    run.next(8)  # beslutning
    run.wait(4)
    run.do(
        RecordDecision(
            actor=FAC,
            decision_id="d1",
            text="Sagsejer indkalder til netværksmøde med skole og PPR inden for to uger.",
            decided_by="Sagsejer",
        )
    )
    run.do(
        RecordDecision(
            actor=FAC,
            decision_id="d2",
            text="Børnesamtalen holdes på skolen med en kendt voksen.",
            decided_by="Sagsejer",
        )
    )
    run.do(
        AddAction(
            actor=FAC,
            action_id="a1",
            what="Indkalde til netværksmøde med skole og PPR",
            who="Mette Søgaard",
            due="2025-03-18",
        )
    )
    run.do(
        AddAction(
            actor=FAC,
            action_id="a2",
            what="Sende materiale om loyalitetskonflikter til teamet",
            who="Jørgen Ålund",
            due="7.3.2025",
        )
    )
    run.next(6)  # evaluering
    run.next(5)  # afslutning
    if end:
        run.wait(2.5)
        run.do(EndSession(actor=FAC))
        run.wait(60)
        run.do(
            EditDecision(
                actor=FAC,
                decision_id="d2",
                text="Børnesamtalen holdes på skolen med en kendt voksen til stede (§ 48).",
            )
        )
    return run


def kvifa_minutes(run: Run | None = None) -> Minutes:
    run = run or kvifa_run()
    return build_minutes(
        run.log,
        engagement_title="Kvifa-sparring, Team Øst",
        place="Mødelokale 2.14",
        facilitator="Anne Jensen",
    )


# -- Kvifa ----------------------------------------------------------------------------------


def test_kvifa_session_markdown_matches_golden() -> None:
    rendered = render_markdown(kvifa_minutes())
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_text(rendered, encoding="utf-8")
    assert rendered == GOLDEN.read_text(encoding="utf-8"), (
        "Markdown changed; if intended, run with UPDATE_GOLDEN=1 and review the diff"
    )


def test_kvifa_minutes_fold_the_whole_session() -> None:
    m = kvifa_minutes()
    assert not m.is_draft
    assert m.session_type == "kvifa" and m.language == "da"
    assert m.title == "Faglig sparring i team (Kvifa)"
    assert m.date == dt.date(2025, 3, 4)
    assert m.started_at == dt.datetime(2025, 3, 4, 9, 0, tzinfo=LOCAL_TZ)
    assert m.case_label == "Sag 17"
    assert m.learning_question == KVIFA_CASE["learning_question"]
    # Participants with their roles; a name only where one was given.
    assert [(x.name, x.role) for x in m.participants] == [
        ("Anne Jensen", "Tovholder"),
        ("Mette Søgaard", "Sagsejer"),
        ("Jørgen Ålund", "Faglig koordinator"),
        ("Søren Bøgh", "Deltager"),
        ("Åse Kjærgaard", "Deltager"),
        ("Line", "Deltager"),
    ]
    # Each step with its actual start and length.
    assert [(s.title, s.started_at.strftime("%H:%M") if s.started_at else None) for s in m.steps][
        :4
    ] == [
        ("Præsentation af sagen", "09:00"),
        ("Spørgerunde", "09:08"),
        ("Refleksionsrunde", "09:17"),
        ("Løsningsforslag", "09:29"),
    ]
    assert [s.duration_seconds for s in m.steps] == [510, 540, 720, 600, 600, 300, 150]
    # Withdrawn cards are not in the minutes.
    proposals = m.steps[3]
    assert proposals.unclustered == (
        "Netværksmøde med skole og PPR",
        "Børnesamtale på skolen",
        "Familiebehandling med fokus på søskende",
    )
    # Decisions: the edit after the end is applied and marked.
    assert [(d.text[:20], d.decided_by, d.edited) for d in m.decisions] == [
        ("Sagsejer indkalder t", "Sagsejer", False),
        ("Børnesamtalen holdes", "Sagsejer", True),
    ]
    assert m.decisions[1].text.endswith("til stede (§ 48).")
    assert m.decisions[0].step_title == "Beslutning om handling"
    assert [(a.who, a.due) for a in m.actions] == [
        ("Mette Søgaard", dt.date(2025, 3, 18)),
        ("Jørgen Ålund", dt.date(2025, 3, 7)),
    ]


def test_minutes_are_a_pure_fold_and_survive_the_log_round_trip() -> None:
    run = kvifa_run()
    records = [to_record(e) for e in run.log]
    again = build_minutes([from_record(n, d) for n, d in records], facilitator="Anne Jensen")
    assert again == build_minutes(run.log, facilitator="Anne Jensen")


def test_kvifa_docx_and_pdf_hold_decisions_and_actions_in_order(
    pdf_text: Callable[[bytes], str],
) -> None:
    m = kvifa_minutes()
    document = docx.Document(io.BytesIO(render_docx(m)))
    texts = [para.text for para in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            texts.extend(cell.text for cell in row.cells)
    body = "\n".join(texts)
    pdf = re.sub(r"\s+", " ", pdf_text(render_pdf(m)))
    wanted = [
        "Sagsejer indkalder til netværksmøde",
        "Børnesamtalen holdes på skolen med en kendt voksen til stede",
        "Indkalde til netværksmøde med skole og PPR",
        "Sende materiale om loyalitetskonflikter",
    ]
    for text in (re.sub(r"\s+", " ", body), pdf):
        positions = [text.find(w) for w in wanted]
        assert all(pos >= 0 for pos in positions), (positions, text[:3000])
        assert positions == sorted(positions)
        for word in ("Søgaard", "Ålund", "Kjærgaard", "Løsningsforslag"):
            assert word in text
        assert "Et forslag, der blev trukket" not in text


def test_kvifa_journal_note_has_roles_not_names() -> None:
    note = render_journal_note(kvifa_minutes())
    assert "Sag 17" in note
    assert "Sagsejer indkalder" in note
    for name in ("Mette", "Søgaard", "Jørgen", "Åse", "Anne Jensen"):
        assert name not in note
    assert "Faglig koordinator" in note


def test_running_session_is_a_draft_with_an_open_step() -> None:
    run = kvifa_run(end=False)
    m = build_minutes(run.log)
    assert m.is_draft
    assert m.ended_at is None
    assert m.steps[-1].title == "Koordinator afslutter"
    assert m.steps[-1].duration_seconds is None
    assert all(s.duration_seconds is not None for s in m.steps[:-1])
    assert "UDKAST" in render_markdown(m)


def test_a_step_visited_twice_counts_both_visits() -> None:
    run = Run("kvifa")
    run.do(StartSession(actor=FAC))
    run.next(5)
    run.wait(3)
    run.do(GoToStep(actor=FAC, step_id="praesentation"))
    run.wait(2)
    run.do(EndSession(actor=FAC))
    m = build_minutes(run.log)
    assert [(s.title, s.duration_seconds) for s in m.steps] == [
        ("Præsentation af sagen", 7 * 60),
        ("Spørgerunde", 3 * 60),
    ]


# -- bad input ------------------------------------------------------------------------------


def _all_formats(m: Minutes, pdf_text: Callable[[bytes], str]) -> str:
    """Render every format; returns the PDF's text."""
    render_markdown(m)
    docx.Document(io.BytesIO(render_docx(m)))
    decisions_csv(m)
    actions_csv(m)
    to_json(m)
    render_journal_note(m)
    return pdf_text(render_pdf(m))


def test_empty_log_and_unstarted_session_give_documents(pdf_text: Callable[[bytes], str]) -> None:
    empty = build_minutes([], title="Tomt møde", now=KVIFA_START)
    assert empty.is_draft and empty.steps == () and empty.date == dt.date(2025, 3, 4)
    assert "Tomt møde" in _all_formats(empty, pdf_text)
    created = Run("kvifa").log
    unstarted = build_minutes(created)
    assert unstarted.is_draft
    assert unstarted.steps == () and unstarted.decisions == () and unstarted.participants == ()
    assert unstarted.date is None
    text = _all_formats(unstarted, pdf_text)
    assert "Der er ikke registreret nogen beslutninger" in re.sub(r"\s+", " ", text)
    assert build_plan(created) is None


def test_500_cards_are_all_in_the_minutes(pdf_text: Callable[[bytes], str]) -> None:
    run = Run("opstartsworkshop")
    steps = run.state.script.steps
    card_step = next(s for s in steps if s.kind == "brainstorm")
    run.do(StartSession(actor=FAC))
    for i in range(50):
        run.enter(f"p{i}", None)
    run.do(GoToStep(actor=FAC, step_id=card_step.id))
    for i in range(500):
        run.now += 1
        run.do(AddCard(actor=FAC, card_id=f"c{i}", text=f"Kort nummer {i:03d} om æbler og øer"))
    run.do(AddCluster(actor=FAC, cluster_id="k1", title="Første tema"))
    for i in range(0, 500, 5):
        run.do(GroupCard(actor=FAC, card_id=f"c{i}", cluster_id="k1"))
    run.do(EndSession(actor=FAC))
    m = build_minutes(run.log)
    step = next(s for s in m.steps if s.title == card_step.title)
    assert step.card_count == 500
    clustered = next(c for c in step.clusters if c.title == "Første tema")
    assert len(clustered.cards) == 100
    md = render_markdown(m)
    assert md.count("Kort nummer") == 500
    text = _all_formats(m, pdf_text)
    assert "Kort nummer 499" in text and "Kort nummer 000" in text


def test_html_and_formulas_stay_text(pdf_text: Callable[[bytes], str]) -> None:
    run = Run("kvifa", cases=(KVIFA_CASE,))
    run.enter("x", "<b>Bo</b>")
    run.do(StartSession(actor=FAC))
    for _ in range(3):
        run.next(1)
    run.do(AddCard(actor=p("x"), card_id="c1", text="<script>alert(1)</script> og <i>kursiv</i>"))
    run.next(1)
    formula = '=HYPERLINK("http://evil.example","klik")'
    run.do(RecordDecision(actor=FAC, decision_id="d1", text=formula))
    run.do(AddAction(actor=FAC, action_id="a1", what="<img src=x onerror=alert(1)>", who="+SUM(1)"))
    run.do(EndSession(actor=FAC))
    m = build_minutes(run.log)
    assert m.decisions[0].text == formula
    decisions = decisions_csv(m).decode("utf-8-sig")
    assert "'=HYPERLINK" in decisions
    assert not re.search(r"(^|;)=HYPERLINK", decisions, flags=re.M)
    assert "'+SUM(1)" in actions_csv(m).decode("utf-8-sig")
    md = render_markdown(m)
    assert "<script>" not in md and "\\<script\\>" in md
    text = _all_formats(m, pdf_text)
    assert "<script>alert(1)</script>" in text  # printed as text, not run or dropped
    assert "<b>Bo</b>" in text
    assert "=HYPERLINK" in text


# -- polls, the prioritisation and the development plan ---------------------------------------

FOCUS_AREAS = (
    {"id": "fa1", "title": "Barnets perspektiv"},
    {"id": "fa2", "title": "Tidlig indsats"},
    {"id": "fa3", "title": "Samarbejde med skolen"},
    {"id": "fa4", "title": "Handleplaner med mål"},
)


def workshop_run() -> Run:
    """The implementation workshop: dot vote, ranking with a tie settled by a runoff."""
    start = dt.datetime(2025, 5, 20, 9, 0, tzinfo=LOCAL_TZ).timestamp()
    run = Run("implementeringsworkshop", start=start, focus_areas=FOCUS_AREAS)
    voters = [f"p{i}" for i in range(4)]
    for pid in voters:
        run.enter(pid, None)
    run.do(StartSession(actor=FAC))
    run.next(15)
    run.next(20)
    run.next(60)  # kaffe
    run.next(15)  # prikker
    run.do(OpenPoll(actor=FAC, poll_id="prikker"))
    dots = [{"fa1": 3, "fa2": 2}, {"fa1": 2, "fa3": 3}, {"fa2": 3, "fa4": 2}, {"fa1": 3, "fa4": 2}]
    for i, (pid, payload) in enumerate(zip(voters, dots, strict=True)):
        run.do(
            CastBallot(
                actor=p(pid),
                poll_id="prikker",
                ballot_id=f"b{i}",
                voter=f"anon{i}",
                payload=payload,
            )
        )
    run.do(ClosePoll(actor=FAC, poll_id="prikker"))
    run.next(15)  # prioritering
    run.do(OpenPoll(actor=FAC, poll_id="prioritering"))
    rankings = [
        ("fa1", "fa2", "fa3", "fa4"),
        ("fa2", "fa1", "fa4", "fa3"),
        ("fa1", "fa2", "fa3", "fa4"),
        ("fa2", "fa1", "fa4", "fa3"),
    ]
    for i, (pid, ranking) in enumerate(zip(voters, rankings, strict=True)):
        run.do(
            CastBallot(
                actor=p(pid),
                poll_id="prioritering",
                ballot_id=f"r{i}",
                voter=f"anon{i}",
                payload=ranking,
            )
        )
    run.do(ClosePoll(actor=FAC, poll_id="prioritering"))
    run.do(StartRunoff(actor=FAC, poll_id="prioritering", option_ids=("fa1", "fa2")))
    runoff = "prioritering-runoff-1"
    for i, (pid, first) in enumerate(zip(voters, ("fa2", "fa2", "fa1", "fa2"), strict=True)):
        second = "fa1" if first == "fa2" else "fa2"
        run.do(
            CastBallot(
                actor=p(pid),
                poll_id=runoff,
                ballot_id=f"x{i}",
                voter=f"anon{i}",
                payload=(first, second),
            )
        )
    run.do(ClosePoll(actor=FAC, poll_id=runoff))
    for option, horizon, owner in (
        ("fa2", "short", "Teamleder Øst"),
        ("fa1", "short", "Faglig koordinator"),
        ("fa3", "medium", ""),
        ("fa4", "long", "Afdelingsleder"),
    ):
        run.do(
            AssignHorizon(
                actor=FAC, poll_id="prioritering", option_id=option, horizon=horizon, owner=owner
            )
        )
    for _ in range(5):  # frokost ... beslutninger
        run.next(20)
    run.do(
        RecordDecision(
            actor=FAC,
            decision_id="d1",
            text="Ledelsen bekræfter prioriteringen.",
            decided_by="Ledelsen",
        )
    )
    run.do(
        AddAction(
            actor=FAC, action_id="a1", what="Første netværksmøde", who="Teamleder Øst", due="uge 24"
        )
    )
    run.do(
        EditAction(
            actor=FAC,
            action_id="a1",
            what="Første netværksmøde med skolerne",
            who="Teamleder Øst",
            due="uge 24",
        )
    )
    run.next(30)
    run.wait(15)
    run.do(EndSession(actor=FAC))
    return run


def test_workshop_polls_in_tally_order_with_ties_and_the_runoff() -> None:
    m = build_minutes(workshop_run().log)
    assert [poll.step_title for poll in m.polls] == [
        "Hvad er vigtigst?",
        "Prioritering og tidsperspektiv",
        "Prioritering og tidsperspektiv",
    ]
    dots, ranking, runoff = m.polls
    assert dots.poll_type == "dot" and dots.ballots == 4 and not dots.named
    assert [(r.label, r.value, r.rank, r.tied) for r in dots.results] == [
        ("Barnets perspektiv", 8, 1, False),
        ("Tidlig indsats", 5, 2, False),
        ("Handleplaner med mål", 4, 3, False),
        ("Samarbejde med skolen", 3, 4, False),
    ]
    values = [r.value for r in dots.results]
    assert values == sorted(values, reverse=True)
    assert [(r.label, r.value, r.rank, r.tied) for r in ranking.results] == [
        ("Barnets perspektiv", 14, 1, True),
        ("Tidlig indsats", 14, 1, True),
        ("Samarbejde med skolen", 6, 3, True),
        ("Handleplaner med mål", 6, 3, True),
    ]
    assert runoff.question.endswith("(omvalg)")
    assert runoff.results[0].label == "Tidlig indsats"
    # The action whose deadline is not a date keeps it in its text.
    assert m.actions[0].what == "Første netværksmøde med skolerne (frist: uge 24)"
    assert m.actions[0].due is None


def test_prioritisation_settles_the_tie_and_becomes_the_plan(
    pdf_text: Callable[[bytes], str],
) -> None:
    run = workshop_run()
    ranked = prioritisation(run.state)
    assert [(o.label, o.place, o.tied) for o in ranked] == [
        ("Tidlig indsats", 1, False),
        ("Barnets perspektiv", 2, False),
        ("Samarbejde med skolen", 3, True),
        ("Handleplaner med mål", 3, True),
    ]
    existing = (
        PlanRow(title="Barnets perspektiv", purpose="Barnet høres i alle sager", status="I gang"),
        PlanRow(title="Overgang til voksenlivet", activity="Tidlig samtale ved 16 år", priority=5),
    )
    plan = build_plan(run.log, engagement_title="Varde", rows=existing)
    assert plan is not None and not plan.is_draft
    assert plan.updated == dt.date(2025, 5, 20)
    assert [(r.title, r.priority, r.horizon, r.owner) for r in plan.rows] == [
        ("Tidlig indsats", 1, Horizon.SHORT, "Teamleder Øst"),
        ("Barnets perspektiv", 2, Horizon.SHORT, "Faglig koordinator"),
        ("Samarbejde med skolen", 3, Horizon.MEDIUM, None),
        ("Handleplaner med mål", 3, Horizon.LONG, "Afdelingsleder"),
        ("Overgang til voksenlivet", None, None, None),
    ]
    assert plan.rows[1].purpose == "Barnet høres i alle sager"
    csv = plan_csv(plan).decode("utf-8-sig")
    assert csv.index("Tidlig indsats") < csv.index("Barnets perspektiv")
    document = docx.Document(io.BytesIO(plan_docx(plan)))
    headings = [para.text for para in document.paragraphs if para.style.name.startswith("Heading")]
    assert headings[:2] == ["1. Tidlig indsats", "2. Barnets perspektiv"]
    text = pdf_text(plan_pdf(plan))
    assert text.index("Tidlig indsats") < text.index("Samarbejde med skolen")
    assert "Mellemlang sigt" in text


NAMED_SCRIPT: dict[str, Any] = {
    "id": "named",
    "title": "Navngiven afstemning",
    "duration": 30,
    "session_type": "steering_group",
    "steps": [
        {
            "id": "valg",
            "kind": "poll",
            "title": "Valg af model",
            "question": "Hvilken model?",
            "type": "choice",
            "options": ["Model Ø", "Model Å"],
            "anonymous": False,
        },
        {"id": "slut", "kind": "decision", "title": "Næste møde", "next_meeting": True},
    ],
}


def test_named_poll_lists_who_voted_what_and_next_meeting_becomes_ics() -> None:
    run = Run(NAMED_SCRIPT)
    run.enter("a", "Bodil")
    run.enter("b", None)
    run.do(StartSession(actor=FAC))
    run.do(OpenPoll(actor=FAC, poll_id="valg"))
    run.do(CastBallot(actor=p("b"), poll_id="valg", ballot_id="1", voter="b", payload=("o2",)))
    run.do(CastBallot(actor=p("a"), poll_id="valg", ballot_id="2", voter="a", payload=("o1",)))
    run.do(ClosePoll(actor=FAC, poll_id="valg"))
    run.next(10)
    run.do(
        AgreeNextMeeting(
            actor=FAC, date="2025-04-01 kl. 13.00-15.00", goals=("Model Ø er afprøvet",)
        )
    )
    run.do(EndSession(actor=FAC))
    m = build_minutes(run.log)
    (poll,) = m.polls
    assert poll.named
    assert [(v.voter, v.choice) for v in poll.voters] == [
        ("Bodil", "Model Ø"),
        ("(uden navn)", "Model Å"),
    ]
    assert [(r.label, r.tied) for r in poll.results] == [("Model Ø", True), ("Model Å", True)]
    assert m.next_meeting is not None
    assert m.next_meeting.starts_at == dt.datetime(2025, 4, 1, 13, 0, tzinfo=LOCAL_TZ)
    assert m.next_meeting.ends_at == dt.datetime(2025, 4, 1, 15, 0, tzinfo=LOCAL_TZ)
    ics = render_ics(m, dtstamp=dt.datetime(2025, 3, 1, tzinfo=dt.UTC))
    assert "DTSTART:20250401T110000Z" in ics and "DTEND:20250401T130000Z" in ics
    assert "Model Ø er afprøvet" in ics


def test_unreadable_next_meeting_is_kept_as_a_decision() -> None:
    run = Run(NAMED_SCRIPT)
    run.do(StartSession(actor=FAC))
    run.next(1)
    run.do(AgreeNextMeeting(actor=FAC, date="efter sommerferien", goals=("Mål A",)))
    m = build_minutes(run.log)
    assert m.next_meeting is None
    assert m.decisions[-1].text == "Næste møde: efter sommerferien. Mål A"


def test_full_day_case_meeting_groups_learnings_by_case() -> None:
    cases = tuple({"id": f"k{i}", "label": f"Sag {i}"} for i in range(1, 4))
    run = Run("heldagsmoede", cases=cases)
    run.do(StartSession(actor=FAC))
    run.do(GoToStep(actor=FAC, step_id="sager-formiddag"))
    run.do(AddCard(actor=FAC, card_id="c1", text="Læring om sag 1"))
    run.do(NextCase(actor=FAC, from_case="k1"))
    run.do(AddCard(actor=FAC, card_id="c2", text="Læring om sag 2"))
    run.do(AddCard(actor=FAC, card_id="c3", text="Endnu en om sag 2"))
    m = build_minutes(run.log)
    step = next(s for s in m.steps if s.kind == "case_walkthrough")
    assert [(c.title, c.cards) for c in step.clusters] == [
        ("Sag 1", ("Læring om sag 1",)),
        ("Sag 2", ("Læring om sag 2", "Endnu en om sag 2")),
    ]
    assert m.case_label is None  # several cases: no single case label


# -- free-text dates ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-03-18", dt.date(2025, 3, 18)),
        ("18.3.2025", dt.date(2025, 3, 18)),
        ("18/3-2025", dt.date(2025, 3, 18)),
        ("18-03-2025", dt.date(2025, 3, 18)),
        ("uge 12", None),
        ("31.2.2025", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_due(text: str | None, expected: dt.date | None) -> None:
    assert parse_due(text) == expected


def test_parse_meeting() -> None:
    at = dt.datetime.combine
    assert parse_meeting("2025-04-01T10:30") == (
        at(dt.date(2025, 4, 1), dt.time(10, 30), tzinfo=LOCAL_TZ),
        None,
    )
    assert parse_meeting("1.4.2025") == (
        at(dt.date(2025, 4, 1), DEFAULT_TIME, tzinfo=LOCAL_TZ),
        None,
    )
    start, end = parse_meeting("tirsdag 1/4-2025 kl. 9.15–11.00") or (None, None)
    assert start == at(dt.date(2025, 4, 1), dt.time(9, 15), tzinfo=LOCAL_TZ)
    assert end == at(dt.date(2025, 4, 1), dt.time(11, 0), tzinfo=LOCAL_TZ)
    assert parse_meeting("snart") is None
