"""The record of a session, as a pure fold of its event log.

:func:`build_minutes` replays a session's events with the engine's own
``apply`` (so the record is exactly what the screens showed: withdrawn cards
are gone, edited decisions carry their new wording) and turns the final state
into a :class:`~server.minutes.model.Minutes`. What the log does not hold
(the session row's title and date, the engagement, the place, the
facilitator's name) comes in as keyword arguments. No I/O, no clock: the
same events and arguments always give the same minutes.

:func:`build_plan` makes the development plan from the prioritisation of an
implementation workshop (the ranked focus areas with their horizons and
owners), merged into plan rows the engagement already has.

Free text the engine stores bounded and CPR-masked; the renderers escape it.
Two engine fields are free text that the model types: an action's deadline
(``due``) and the next meeting's ``date``. Both are parsed leniently (ISO
8601 or Danish ``18.3.2025`` / ``18/3-2025``, optionally with ``kl. 10.00``);
a deadline that is not a date stays in the action's text so nothing agreed
is lost, and a next meeting without a time starts at :data:`DEFAULT_TIME`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from server.engine.apply import replay
from server.engine.events import SessionCreated
from server.engine.poll import Ballot, PollState, PollStatus, RankedOption, count, ranked_options
from server.engine.registry import Event
from server.engine.state import SessionState, SessionStatus, StepVisit
from server.engine.tally import PollResult, PollType
from server.minutes.fmt import LOCAL_TZ
from server.minutes.labels import labels_for
from server.minutes.model import (
    Action,
    Cluster,
    Decision,
    DevelopmentPlan,
    Horizon,
    Language,
    Minutes,
    NextMeeting,
    Participant,
    PlanRow,
    Poll,
    PollResultRow,
    Step,
    VoterLine,
)
from server.scripts.schema import DecisionStep

DEFAULT_TIME = dt.time(9, 0)
"""When a next meeting agreed as a date only starts (the model needs a time)."""

# Role and word labels the minutes need that labels.py does not carry.
_WORDS: Mapping[str, Mapping[str, str]] = {
    "da": {
        "participant": "Deltager",
        "facilitator": "Tovholder",
        "case_owner": "Sagsejer",
        "runoff": "omvalg",
        "next_meeting": "Næste møde",
    },
    "en": {
        "participant": "Participant",
        "facilitator": "Facilitator",
        "case_owner": "Case owner",
        "runoff": "runoff",
        "next_meeting": "Next meeting",
    },
}


def _words(language: str) -> Mapping[str, str]:
    return _WORDS["en" if language == "en" else "da"]


def _language(value: str | None, fallback: str) -> Language:
    chosen = value or fallback
    return "en" if chosen == "en" else "da"


def local(at: float) -> dt.datetime:
    """An event's time (seconds since the epoch) as Danish local time, tz-aware."""
    return dt.datetime.fromtimestamp(at, tz=LOCAL_TZ)


# -- free-text dates ----------------------------------------------------------------------

_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_DK_DATE = re.compile(r"(\d{1,2})[./-](\d{1,2})[./-](\d{4})")
_TIME = re.compile(r"(?:kl\.?\s*|T|\s)(\d{1,2})[:.](\d{2})(?:\s*[-–]\s*(\d{1,2})[:.](\d{2}))?")


def _date_in(text: str) -> tuple[dt.date, int] | None:
    """The first date in ``text`` and where it ends, or None."""
    for pattern, order in ((_ISO_DATE, (0, 1, 2)), (_DK_DATE, (2, 1, 0))):
        found = pattern.search(text)
        if found is None:
            continue
        parts = [int(found.group(i + 1)) for i in order]
        try:
            return dt.date(parts[0], parts[1], parts[2]), found.end()
        except ValueError:
            return None
    return None


def parse_due(text: str | None) -> dt.date | None:
    """A deadline typed as a date ("2025-03-18", "18.3.2025", "18/3-2025"), else None."""
    if not text:
        return None
    found = _date_in(text.strip())
    return None if found is None else found[0]


def parse_meeting(text: str) -> tuple[dt.datetime, dt.datetime | None] | None:
    """Start (and end, for "kl. 10.00-12.00") of a meeting typed as text, local time."""
    found = _date_in(text)
    if found is None:
        return None
    day, end_of_date = found
    start_time, end_time = DEFAULT_TIME, None
    clock = _TIME.search(text, end_of_date)
    if clock is not None:
        try:
            start_time = dt.time(int(clock.group(1)), int(clock.group(2)))
            if clock.group(3):
                end_time = dt.time(int(clock.group(3)), int(clock.group(4)))
        except ValueError:
            start_time, end_time = DEFAULT_TIME, None
    start = dt.datetime.combine(day, start_time, tzinfo=LOCAL_TZ)
    end = dt.datetime.combine(day, end_time, tzinfo=LOCAL_TZ) if end_time else None
    return start, (end if end is not None and end > start else None)


# -- people ---------------------------------------------------------------------------------


def _role_titles(state: SessionState, language: str) -> dict[str, str]:
    titles = {role.id: role.title for role in state.script.roles}
    titles.setdefault("case_owner", _words(language)["case_owner"])
    return titles


def _participants(
    state: SessionState, language: str, facilitator: str | None
) -> tuple[Participant, ...]:
    words = _words(language)
    titles = _role_titles(state, language)
    people: list[Participant] = []
    if facilitator and facilitator.strip():
        people.append(Participant(facilitator.strip(), words["facilitator"]))
    for p in state.participants.values():  # in the order they joined
        role = state.participant_role(p.id)
        label = titles.get(role, role) if role else words["participant"]
        people.append(Participant(p.name or None, label))
    return tuple(people)


def _voter_name(state: SessionState, voter: str, language: str) -> str:
    p = state.participants.get(voter)
    if p is not None and p.name:
        return p.name
    role = state.participant_role(voter)
    if role:
        return _role_titles(state, language).get(role, role)
    return labels_for(language).anonymous_participant


# -- steps, cards and clusters --------------------------------------------------------------


def _visits_by_step(visits: Sequence[StepVisit]) -> dict[str, list[StepVisit]]:
    grouped: dict[str, list[StepVisit]] = {}
    for visit in visits:
        grouped.setdefault(visit.step_id, []).append(visit)
    return grouped  # in order of each step's first visit


def _duration(visits: Sequence[StepVisit]) -> int | None:
    """Total time in the step; None while one of its visits is still open."""
    if any(v.ended_at is None for v in visits):
        return None
    return round(sum(max(0.0, (v.ended_at or v.started_at) - v.started_at) for v in visits))


def _step_cards(state: SessionState, step_id: str) -> tuple[tuple[Cluster, ...], tuple[str, ...]]:
    cards = state.cards_for(step_id)
    clusters = [c for c in state.clusters.values() if c.step_id == step_id]
    by_cluster: dict[str, list[str]] = {c.id: [] for c in clusters}
    by_case: dict[str, list[str]] = {}
    loose: list[str] = []
    for card in cards:
        if card.cluster_id is not None and card.cluster_id in by_cluster:
            by_cluster[card.cluster_id].append(card.text)
        elif card.case_id is not None:
            by_case.setdefault(card.case_id, []).append(card.text)
        else:
            loose.append(card.text)
    grouped = [Cluster(c.title, tuple(by_cluster[c.id])) for c in clusters if by_cluster[c.id]]
    grouped += [
        Cluster(case.label, tuple(by_case[case.id])) for case in state.cases if case.id in by_case
    ]
    return tuple(grouped), tuple(loose)


def _steps(state: SessionState) -> tuple[Step, ...]:
    steps: list[Step] = []
    for step_id, visits in _visits_by_step(state.visits).items():
        index = state.script.index_of(step_id)
        if index is None:
            continue
        script_step = state.script.steps[index]
        clusters, loose = _step_cards(state, step_id)
        steps.append(
            Step(
                title=script_step.title,
                kind=script_step.kind,
                started_at=local(visits[0].started_at),
                duration_seconds=_duration(visits),
                clusters=clusters,
                unclustered=loose,
            )
        )
    return tuple(steps)


def _step_title(state: SessionState, step_id: str) -> str | None:
    index = state.script.index_of(step_id)
    return None if index is None else state.script.steps[index].title


# -- polls ------------------------------------------------------------------------------------


def _choice_text(poll: PollState, ballot: Ballot) -> str:
    payload = ballot.payload
    label = poll.label
    if poll.type is PollType.RANK and isinstance(payload, tuple | list):
        return ", ".join(f"{i}. {label(str(o)) or o}" for i, o in enumerate(payload, 1))
    if isinstance(payload, tuple | list):
        return ", ".join(label(str(o)) or str(o) for o in payload)
    if isinstance(payload, Mapping):
        return ", ".join(f"{label(str(o)) or o}: {n}" for o, n in payload.items() if n)
    return str(payload)


def _result(poll: PollState) -> PollResult | None:
    """The count stored at close; for a vote never closed, a count of its ballots."""
    if poll.result is not None:
        return poll.result
    return count(poll) if poll.ballots else None


def _poll(state: SessionState, poll: PollState, language: str) -> Poll:
    result = _result(poll)
    rows = (
        tuple(
            PollResultRow(label=r.label, value=float(r.value), rank=r.rank, tied=r.tied)
            for r in result.rows
        )
        if result is not None
        else ()
    )
    named = not poll.anonymous
    voters: tuple[VoterLine, ...] = ()
    if named:
        order = {pid: i for i, pid in enumerate(state.participants)}
        voters = tuple(
            VoterLine(_voter_name(state, voter, language), _choice_text(poll, ballot))
            for voter, ballot in sorted(
                poll.ballots.items(), key=lambda item: (order.get(item[0], len(order)), item[0])
            )
        )
    question = poll.question
    if poll.runoff_of is not None:
        question = f"{question} ({_words(language)['runoff']})"
    return Poll(
        question=question,
        poll_type=str(poll.type),
        ballots=result.ballots if result is not None else len(poll.ballots),
        results=rows,
        named=named,
        voters=voters,
        step_title=_step_title(state, poll.step_id),
    )


def _polls(state: SessionState, language: str) -> tuple[Poll, ...]:
    return tuple(
        _poll(state, poll, language)
        for poll in state.polls.values()
        if poll.status is not PollStatus.DRAFT or poll.ballots
    )


def priority_poll(state: SessionState) -> PollState | None:
    """The vote that prioritises the focus areas: the first that sets time horizons."""
    return next((p for p in state.polls.values() if p.assign_horizon and p.runoff_of is None), None)


def prioritisation(state: SessionState) -> tuple[RankedOption, ...]:
    """The counted order of the prioritisation, ties settled by runoffs (empty if none)."""
    poll = priority_poll(state)
    return () if poll is None else ranked_options(state.polls, poll.poll_id)


# -- decisions, actions, next meeting -------------------------------------------------------------


def _actions(state: SessionState, language: str) -> tuple[Action, ...]:
    due_word = labels_for(language).due.lower()
    actions = []
    for a in state.actions:
        due = parse_due(a.due)
        what = a.what
        if a.due and due is None:
            what = f"{what} ({due_word}: {a.due})"  # not a date: keep what was agreed
        actions.append(Action(what=what, who=a.who or None, due=due))
    return tuple(actions)


def _next_meeting(state: SessionState, language: str) -> tuple[NextMeeting | None, str | None]:
    """The next meeting, or (None, a decision's text) when its date cannot be read."""
    agreed = state.next_meeting
    if agreed is None:
        return None, None
    when = parse_meeting(agreed.date)
    if when is None:
        goals = "; ".join(agreed.goals)
        text = f"{_words(language)['next_meeting']}: {agreed.date}"
        return None, f"{text}. {goals}" if goals else text
    return NextMeeting(starts_at=when[0], ends_at=when[1], goals=tuple(agreed.goals)), None


# -- the minutes --------------------------------------------------------------------------------


def fold(events: Iterable[Event]) -> SessionState | None:
    """The session's state after its events (None for an empty log)."""
    events = list(events)
    if not events or not isinstance(events[0], SessionCreated):
        return None
    return replay(events)


def build_minutes(
    events: Iterable[Event],
    *,
    title: str | None = None,
    language: str | None = None,
    date: dt.date | None = None,
    place: str | None = None,
    engagement_title: str | None = None,
    facilitator: str | None = None,
    now: float | None = None,
) -> Minutes:
    """The minutes of a session from its event log and what its row adds.

    ``title``/``language`` default to the script's; ``date`` to the day the
    session started (or, for a session never started, the day of ``now``).
    ``facilitator`` is the name of whoever ran it, listed first. Participants
    appear with a name only where they gave one. Until a SessionEnded is in
    the log the minutes are a draft, and the open step has no length.
    """
    state = fold(events)
    lang = _language(language, state.script.language if state is not None else "da")
    if state is None:
        day = date or (local(now).date() if now is not None else None)
        return Minutes(
            title=title or labels_for(lang).minutes,
            session_type="other",
            language=lang,
            engagement_title=engagement_title,
            place=place,
            date=day,
            is_draft=True,
        )
    started = local(state.started_at) if state.started_at is not None else None
    ended = local(state.ended_at) if state.ended_at is not None else None
    if date is None:
        date = started.date() if started else (local(now).date() if now is not None else None)
    next_meeting, unreadable_meeting = _next_meeting(state, lang)
    decisions = tuple(
        Decision(
            text=d.text,
            decided_by=d.decided_by or None,
            step_title=_step_title(state, d.step_id),
            edited=d.edited,
        )
        for d in state.decisions
    )
    if unreadable_meeting:
        decisions += (Decision(text=unreadable_meeting),)
    case = state.cases[0] if len(state.cases) == 1 else None
    return Minutes(
        title=title or state.script.title,
        session_type=str(state.script.session_type),
        language=lang,
        engagement_title=engagement_title,
        place=place,
        date=date,
        started_at=started,
        ended_at=ended,
        is_draft=state.status is not SessionStatus.ENDED,
        participants=_participants(state, lang, facilitator),
        steps=_steps(state),
        polls=_polls(state, lang),
        decisions=decisions,
        actions=_actions(state, lang),
        next_meeting=next_meeting,
        case_label=case.label if case else None,
        learning_question=(case.learning_question or None) if case else None,
    )


# -- the development plan -------------------------------------------------------------------------


def _key(title: str) -> str:
    return " ".join(title.split()).casefold()


def build_plan(
    events: Iterable[Event],
    *,
    title: str | None = None,
    language: str | None = None,
    engagement_title: str | None = None,
    date: dt.date | None = None,
    rows: Sequence[PlanRow] = (),
    now: float | None = None,
) -> DevelopmentPlan | None:
    """The development plan after this session, or None if it prioritised nothing.

    The session's prioritisation (its vote with time horizons, ties settled by
    runoffs) orders the focus areas and sets priority, horizon and owner.
    ``rows`` are the plan rows the engagement already has: their texts
    (purpose, activity, goal, actors, schedule, status) are kept and matched
    to the ranking by title. Focus areas the session knew but did not rank,
    and existing rows not in the ranking, follow unprioritised.
    """
    state = fold(events)
    if state is None:
        return None
    ranked = prioritisation(state)
    if not ranked:
        return None
    lang = _language(language, state.script.language)
    existing = {_key(row.title): row for row in rows}
    placed: list[PlanRow] = []
    seen: set[str] = set()
    for option in ranked:
        key = _key(option.label)
        seen.add(key)
        base = existing.get(key, PlanRow(title=option.label))
        placed.append(
            replace(
                base,
                priority=option.place,
                horizon=Horizon(str(option.horizon)) if option.horizon else base.horizon,
                owner=option.owner or base.owner,
            )
        )
    for row in rows:
        if _key(row.title) not in seen:
            seen.add(_key(row.title))
            placed.append(replace(row, priority=None))
    for area in state.focus_areas:
        if _key(area.title) not in seen:
            seen.add(_key(area.title))
            placed.append(PlanRow(title=area.title))
    if date is None:
        end = state.ended_at or state.started_at or now
        date = local(end).date() if end is not None else None
    return DevelopmentPlan(
        title=title or labels_for(lang).development_plan,
        language=lang,
        engagement_title=engagement_title,
        updated=date,
        is_draft=state.status is not SessionStatus.ENDED,
        rows=tuple(placed),
    )


# -- what the coordinator page needs besides the documents ------------------------------------------


@dataclass(frozen=True, slots=True)
class Editable:
    """A decision or action as the edit form shows it (engine id and current wording)."""

    id: str
    text: str
    who: str = ""
    due: str = ""
    edited: bool = False


def editable_decisions(state: SessionState) -> tuple[Editable, ...]:
    return tuple(Editable(d.id, d.text, edited=d.edited) for d in state.decisions)


def editable_actions(state: SessionState) -> tuple[Editable, ...]:
    return tuple(
        Editable(a.id, a.what, who=a.who, due=a.due or "", edited=a.edited) for a in state.actions
    )


def has_journal_note(state: SessionState) -> bool:
    """True when the script turns a decision into a journal note (Kvifa)."""
    return any(isinstance(s, DecisionStep) and s.journal_note for s in state.script.steps)
