"""One presentation model shared by the Markdown, DOCX and PDF renderers.

Deciding *what* the minutes say (which sections, in which order, how a date
or a tie is written) happens once, here; each renderer only decides *how* it
looks. Strings in the view are cleaned (:func:`server.minutes.text.clean`)
but not escaped: escaping belongs to each output format.
"""

from __future__ import annotations

from dataclasses import dataclass

from server.minutes import fmt
from server.minutes.labels import (
    Labels,
    labels_for,
    poll_type_label,
    session_type_label,
    value_head,
)
from server.minutes.model import Minutes, NextMeeting, Participant, Poll
from server.minutes.text import clean, one_line


@dataclass(frozen=True, slots=True)
class DecisionView:
    no: int
    text: str
    decided_by: str
    step: str
    edited: bool


@dataclass(frozen=True, slots=True)
class ActionView:
    no: int
    what: str
    who: str
    due: str


@dataclass(frozen=True, slots=True)
class ResultView:
    rank: str  # "1." or "1. (delt)"
    label: str
    value: str
    tied: bool


@dataclass(frozen=True, slots=True)
class PollView:
    no: int
    question: str
    info: str  # "Prikstemmer · 12 afgivne stemmer · Punkt: Prioritering"
    value_head: str
    results: tuple[ResultView, ...]
    voters: tuple[tuple[str, str], ...]
    poll: Poll  # the source, for charts


@dataclass(frozen=True, slots=True)
class AgendaRow:
    no: int
    title: str
    start: str
    duration: str


@dataclass(frozen=True, slots=True)
class ClusterView:
    title: str
    cards: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class StepContentView:
    no: int
    title: str
    clusters: tuple[ClusterView, ...]  # an untitled last cluster holds unclustered cards


@dataclass(frozen=True, slots=True)
class NextMeetingView:
    when: str
    place: str
    goals: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class MinutesView:
    labels: Labels
    language: str
    title: str
    kicker: str  # "Referat · Faglig sparring (Kvifa)"
    is_draft: bool
    meta: tuple[tuple[str, str], ...]  # (label, value), only filled-in values
    learning_question: str
    participants: tuple[str, ...]
    decisions: tuple[DecisionView, ...]
    actions: tuple[ActionView, ...]
    next_meeting: NextMeetingView | None
    polls: tuple[PollView, ...]
    agenda: tuple[AgendaRow, ...]
    step_contents: tuple[StepContentView, ...]


def participant_line(participant: Participant) -> str:
    name = one_line(participant.name)
    role = one_line(participant.role)
    if name and role:
        return f"{name} ({role})"
    return name or role


def _meta(minutes: Minutes, labels: Labels) -> tuple[tuple[str, str], ...]:
    lang = minutes.language
    day = minutes.meeting_date
    rows = [
        (labels.engagement, one_line(minutes.engagement_title)),
        (labels.date, fmt.long_date(day, lang) if day else ""),
        (labels.time, fmt.time_span(minutes.started_at, minutes.ended_at, lang)),
        (labels.place, one_line(minutes.place)),
        (labels.case, one_line(minutes.case_label)),
    ]
    return tuple((label, value) for label, value in rows if value)


def _poll_view(no: int, poll: Poll, minutes: Minutes, labels: Labels) -> PollView:
    lang = minutes.language
    info = [poll_type_label(labels, poll.poll_type), f"{labels.ballots}: {poll.ballots}"]
    if poll.step_title:
        info.append(f"{labels.step}: {one_line(poll.step_title)}")
    results = tuple(
        ResultView(
            rank=fmt.rank(row.rank, row.tied, labels),
            label=one_line(row.label),
            value=fmt.number(row.value, lang),
            tied=row.tied,
        )
        for row in poll.results
    )
    voters = (
        tuple((one_line(v.voter), one_line(v.choice)) for v in poll.voters) if poll.named else ()
    )
    return PollView(
        no=no,
        question=clean(poll.question).strip(),
        info=" · ".join(info),
        value_head=value_head(labels, poll.poll_type),
        results=results,
        voters=voters,
        poll=poll,
    )


def _next_meeting(meeting: NextMeeting | None, minutes: Minutes) -> NextMeetingView | None:
    if meeting is None:
        return None
    lang = minutes.language
    start = fmt.to_local(meeting.starts_at)
    when = f"{fmt.long_date(start.date(), lang)}, {fmt.time_span(start, meeting.ends_at, lang)}"
    goals = tuple(g for g in (clean(goal).strip() for goal in meeting.goals) if g)
    return NextMeetingView(when=when, place=one_line(meeting.place), goals=goals)


def _step_contents(minutes: Minutes, labels: Labels) -> tuple[StepContentView, ...]:
    contents = []
    for no, step in enumerate(minutes.steps, start=1):
        clusters = [
            ClusterView(one_line(c.title), tuple(clean(card).strip() for card in c.cards))
            for c in step.clusters
        ]
        if step.unclustered:
            title = labels.unclustered if clusters else ""
            clusters.append(
                ClusterView(title, tuple(clean(card).strip() for card in step.unclustered))
            )
        if any(c.cards for c in clusters):
            contents.append(StepContentView(no, one_line(step.title), tuple(clusters)))
    return tuple(contents)


def _agenda(minutes: Minutes, labels: Labels) -> tuple[AgendaRow, ...]:
    """Steps with actual start and length; in a draft, the open step is "i gang"."""
    lang = minutes.language
    rows = []
    for no, step in enumerate(minutes.steps, start=1):
        duration = fmt.duration(step.duration_seconds, labels)
        if not duration and minutes.is_draft and step.started_at is not None:
            duration = labels.running
        start = fmt.clock(step.started_at, lang) if step.started_at else ""
        rows.append(AgendaRow(no, one_line(step.title), start, duration))
    return tuple(rows)


def build_view(minutes: Minutes) -> MinutesView:
    labels = labels_for(minutes.language)
    lang = minutes.language
    return MinutesView(
        labels=labels,
        language=lang,
        title=one_line(minutes.title) or labels.minutes,
        kicker=f"{labels.minutes} · {session_type_label(labels, minutes.session_type)}",
        is_draft=minutes.is_draft,
        meta=_meta(minutes, labels),
        learning_question=clean(minutes.learning_question).strip(),
        participants=tuple(
            line for line in (participant_line(p) for p in minutes.participants) if line
        ),
        decisions=tuple(
            DecisionView(
                no=no,
                text=clean(d.text).strip(),
                decided_by=one_line(d.decided_by),
                step=one_line(d.step_title),
                edited=d.edited,
            )
            for no, d in enumerate(minutes.decisions, start=1)
        ),
        actions=tuple(
            ActionView(
                no=no,
                what=clean(a.what).strip(),
                who=one_line(a.who) or "–",
                due=fmt.short_date(a.due, lang) if a.due else "–",
            )
            for no, a in enumerate(minutes.actions, start=1)
        ),
        next_meeting=_next_meeting(minutes.next_meeting, minutes),
        polls=tuple(
            _poll_view(no, poll, minutes, labels) for no, poll in enumerate(minutes.polls, 1)
        ),
        agenda=_agenda(minutes, labels),
        step_contents=_step_contents(minutes, labels),
    )
