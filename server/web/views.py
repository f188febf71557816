"""Read-only view models the templates draw from (no rendering, no I/O)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

from markupsafe import Markup

from server.engine.poll import (
    ParticipantPollView,
    PollState,
    PollStatus,
    ProjectorPollView,
    RankedOption,
    ballot_count,
    deciding_ties_of,
    live_result,
    participant_view,
    projector_view,
    ranked_options,
    runoffs_of,
)
from server.engine.state import (
    ActionItem,
    Card,
    Decision,
    Participant,
    SessionState,
    SessionStatus,
    TimerStatus,
)
from server.engine.steps import private_time
from server.engine.steps import round as round_step
from server.engine.steps.poll import LABEL_MAX
from server.engine.tally import (
    PollResult,
    PollRules,
    PollType,
    ResultRow,
    Tie,
    cutoff,
    deciding_ties,
)
from server.minutes.charts import PROJECTOR, ChartStyle, bar_chart_svg
from server.scripts.schema import PollStep, RoundStep, Step
from server.web.voters import voter_for


@dataclass(frozen=True)
class Person:
    id: str
    number: int
    name: str | None
    role: str | None
    connected: bool


@dataclass(frozen=True)
class StepItem:
    index: int
    step: Step
    state: str  # done | current | upcoming


@dataclass(frozen=True)
class ClusterView:
    id: str | None
    title: str | None
    cards: tuple[Card, ...]


class SessionView:
    def __init__(self, state: SessionState, connected: frozenset[str], now: float) -> None:
        self.s = state
        self.connected = connected
        self.now = now

    @cached_property
    def people(self) -> list[Person]:
        ordered = sorted(self.s.participants.values(), key=lambda p: (p.joined_at, p.id))
        return [
            Person(p.id, i, p.name, self.s.participant_role(p.id), p.id in self.connected)
            for i, p in enumerate(ordered, start=1)
        ]

    @cached_property
    def by_id(self) -> dict[str, Person]:
        return {p.id: p for p in self.people}

    @property
    def running(self) -> bool:
        return self.s.status is SessionStatus.RUNNING

    @property
    def ended(self) -> bool:
        return self.s.status is SessionStatus.ENDED

    @property
    def step(self) -> Step | None:
        return self.s.step

    @property
    def steps(self) -> list[StepItem]:
        cur = self.s.current
        return [
            StepItem(
                i, st, "upcoming" if cur is None or i > cur else "current" if i == cur else "done"
            )
            for i, st in enumerate(self.s.script.steps)
        ]

    @property
    def is_first(self) -> bool:
        return self.s.current in (None, 0)

    @property
    def is_last(self) -> bool:
        return self.s.current == len(self.s.script.steps) - 1

    @property
    def connected_count(self) -> int:
        # Without sorting everyone into `people`: the status line and the live
        # count ask for it on every render of the facilitator's screen.
        return sum(1 for pid in self.s.participants if pid in self.connected)

    def role_title(self, role_id: str | None) -> str | None:
        if role_id is None:
            return None
        for r in self.s.script.roles:
            if r.id == role_id:
                return r.title
        return role_id

    # -- timer -----------------------------------------------------------------

    @property
    def timer_running(self) -> bool:
        return self.s.timer.status is TimerStatus.RUNNING

    @property
    def timer_deadline_ms(self) -> int:
        deadline = self.s.timer.deadline
        return int(deadline * 1000) if deadline else 0

    @property
    def timer_remaining(self) -> float:
        return self.s.timer.remaining_at(self.now)

    @property
    def timer_left(self) -> float:
        """What is left, below zero in overtime: the digits every screen shows."""
        return self.s.timer.left_at(self.now)

    @property
    def timer_expired(self) -> bool:
        return self.s.timer.expired_at(self.now)

    @property
    def has_timer(self) -> bool:
        return self.s.timer.is_set

    @property
    def resumes_at(self) -> dt.datetime | None:
        """When the timer runs out (now plus what is left): a break's "we start
        again at", for the wall. None without a timer."""
        if not self.s.timer.is_set:
            return None
        return dt.datetime.fromtimestamp(self.now + self.s.timer.remaining_at(self.now), tz=dt.UTC)

    # -- decisions -------------------------------------------------------------

    @property
    def decisions_here(self) -> list[Decision]:
        """The decisions recorded in the current step, oldest first (the wall)."""
        step = self.s.step
        if step is None:
            return []
        return sorted(
            (d for d in self.s.decisions if d.step_id == step.id), key=lambda d: d.created_at
        )

    @property
    def actions_here(self) -> list[ActionItem]:
        """The actions agreed in the current step, oldest first (the wall)."""
        step = self.s.step
        if step is None:
            return []
        return sorted(
            (a for a in self.s.actions if a.step_id == step.id), key=lambda a: a.created_at
        )

    # -- cards -----------------------------------------------------------------

    def clusters(self, step_id: str) -> list[ClusterView]:
        cards = self.s.cards_for(step_id)
        groups = [
            ClusterView(c.id, c.title, tuple(card for card in cards if card.cluster_id == c.id))
            for c in self.s.clusters_for(step_id)
        ]
        loose = tuple(card for card in cards if card.cluster_id is None)
        return [*groups, ClusterView(None, None, loose)] if loose or not groups else groups

    @property
    def cards_here(self) -> list[Card]:
        step = self.s.step
        return [] if step is None else self.s.cards_for(step.id)

    # -- rounds ----------------------------------------------------------------

    @property
    def round_order(self) -> list[tuple[Person | None, str]]:
        """(person, state) in speaking order; state is done | current | waiting | skipped."""
        step = self.s.step
        if not isinstance(step, RoundStep):
            return []
        rnd = self.s.rounds.get(step.id)
        if rnd is None:
            return []
        out: list[tuple[Person | None, str]] = []
        for i, pid in enumerate(rnd.order):
            if i < rnd.position:
                state = "skipped" if pid in rnd.skipped else "done"
            else:
                state = "current" if i == rnd.position else "waiting"
            out.append((self.by_id.get(pid), state))
        return out

    @property
    def current_speaker(self) -> Person | None:
        step = self.s.step
        rnd = self.s.rounds.get(step.id) if isinstance(step, RoundStep) else None
        if rnd is None or rnd.current is None:
            return None
        return self.by_id.get(rnd.current)

    @property
    def listeners(self) -> list[Person]:
        step = self.s.step
        if not isinstance(step, RoundStep):
            return []
        return [p for p in self.people if p.role in step.listeners]

    # -- polls (facilitator and projector; a phone's own ballot is in PrivateView) --

    @staticmethod
    def num(value: float, lang: str) -> str:
        return number_text(value, lang)

    @staticmethod
    def rank_places(result: PollResult) -> int:
        """How many place columns a ranking's table needs: down to the deepest
        place any ballot filled (ballots may rank only some options), at least 1."""
        return rank_places(result)

    @staticmethod
    def not_ranked(result: PollResult, row: ResultRow) -> int:
        """How many ballots left this option out of their ranking."""
        return max(0, result.ballots - sum(row.positions))

    @cached_property
    def step_polls(self) -> list[PollPanel]:
        """The current step's polls, the script's first and then its runoffs (facilitator)."""
        step = self.s.step
        if not isinstance(step, PollStep):
            return []
        return [PollPanel(p, self.s.polls) for p in polls_of_step(self.s, step.id)]

    @property
    def open_polls(self) -> list[PollPanel]:
        return [p for p in self.step_polls if p.poll.status is PollStatus.OPEN]

    @cached_property
    def projector_poll(self) -> ProjectorPoll | None:
        """What the wall shows of the step's vote: its newest poll that has opened
        (else the draft): the count while open, the result once published."""
        step = self.s.step
        if not isinstance(step, PollStep):
            return None
        polls = polls_of_step(self.s, step.id)
        shown = [p for p in polls if p.status is not PollStatus.DRAFT] or polls[:1]
        if not shown:
            return None
        poll = shown[-1]
        main = polls[0]
        final: tuple[RankedOption, ...] = ()
        if poll.runoff_of is not None and poll.status is PollStatus.PUBLISHED:
            final = ranked_options(self.s.polls, main.poll_id)
        return ProjectorPoll(
            projector_view(poll), poll.rules, poll.runoff_of is not None, final, poll.top_n
        )

    def option_candidates(self, panel: PollPanel) -> list[tuple[str, str, str]]:
        """(source, id, label) the facilitator can add to a draft: the engagement's
        focus areas, the session's clusters and cards, and other polls' options."""
        poll = panel.poll
        have_ids = set(poll.option_ids)
        have_labels = {label for _, label in poll.options}
        found: list[tuple[str, str, str]] = []
        found += [("focus_area", fa.id, fa.title) for fa in self.s.focus_areas]
        found += [("cluster", c.id, c.title) for c in self.s.clusters.values()]
        found += [
            ("card", c.id, c.text)
            for c in sorted(self.s.cards.values(), key=lambda c: (c.created_at, c.id))
        ]
        for other in self.s.polls.values():
            if other.step_id != poll.step_id and other.runoff_of is None:
                found += [("poll", oid, label) for oid, label in other.options]
        out: list[tuple[str, str, str]] = []
        for source, option_id, label in found:
            text = " ".join(label.split())
            if len(text) > LABEL_MAX:
                text = text[: LABEL_MAX - 1].rstrip() + "…"
            if option_id in have_ids or text in have_labels or not text:
                continue
            have_ids.add(option_id)
            have_labels.add(text)
            out.append((source, option_id, text))
        return out[:CANDIDATES_MAX]

    @property
    def prioritisations(self) -> list[tuple[PollState, tuple[RankedOption, ...]]]:
        """Counted prioritisations (polls that set horizons) from other steps, in
        their counted order with horizon and owner: what the next steps build on."""
        step = self.s.step
        here = step.id if step is not None else None
        order = {st.id: i for i, st in enumerate(self.s.script.steps)}
        found = [
            p
            for p in self.s.polls.values()
            if p.runoff_of is None
            and p.assign_horizon
            and p.result is not None
            and p.step_id != here
        ]
        found.sort(key=lambda p: order.get(p.step_id, 0))
        return [(p, ranked_options(self.s.polls, p.poll_id)) for p in found]


@dataclass(frozen=True)
class PrivateView:
    """Everything one phone shows that is its own; hashable, so equal views render once."""

    step_id: str | None
    name: str | None
    role: str | None
    listening: bool
    my_turn: bool
    cards: tuple[tuple[str, str], ...]
    polls: tuple[MyPoll, ...] = ()  # the step's polls with this phone's own ballot only
    away: str | None = None  # private time for another group: what this phone shows instead

    @property
    def writes(self) -> bool:
        """May this phone add cards in the current step (if the step takes cards)?"""
        return not self.listening and self.away is None


def private_view(state: SessionState, participant_id: str, voter_key: bytes = b"") -> PrivateView:
    p: Participant | None = state.participants.get(participant_id)
    step = state.step
    role = state.participant_role(participant_id)
    listening = round_step.is_listening(state, participant_id)
    my_turn = False
    if isinstance(step, RoundStep):
        rnd = state.rounds.get(step.id)
        my_turn = rnd is not None and rnd.current == participant_id
    cards: tuple[tuple[str, str], ...] = ()
    if step is not None:
        cards = tuple((c.id, c.text) for c in state.cards_by(step.id, participant_id))
    return PrivateView(
        step_id=step.id if step else None,
        name=p.name if p else None,
        role=role,
        listening=listening,
        my_turn=my_turn,
        cards=cards,
        polls=my_polls(state, participant_id, voter_key),
        away=private_time.others_message(state, participant_id),
    )


# -- polls ------------------------------------------------------------------------------

CANDIDATES_MAX = 60
HORIZONS = ("short", "medium", "long")

PROJECTOR_CHART = dataclasses.replace(
    PROJECTOR,
    text_color="#ffffff",
    muted_color="#c9d6ea",
    track_color="#24374f",
    bar_color="#5aa9ec",
    tie_color="#ffb454",
)
"""The wall's chart: large type, light on the projector's dark background."""
PROJECTOR_CHART_COMPACT = dataclasses.replace(
    PROJECTOR_CHART, bar_height=24, row_gap=14, max_label_lines=1
)
"""For many options: one line of label and a thinner bar, so all of them fit."""
COMPACT_FROM = 7  # options
PHONE_CHART = ChartStyle(width=340, font_size=17, bar_height=16, row_gap=12, max_label_lines=3)


def shown_result(result: PollResult | None, top_n: int | None) -> PollResult | None:
    """The result as the screens show it: `tied` only on ties that decide
    something (first place, or the cut-off of the top N). Options that merely
    share a place keep their shared place number, without the flag."""
    if result is None:
        return None
    deciding = {o for tie in deciding_ties(result, top_n) for o in tie.option_ids}
    rows = tuple(
        row
        if row.tied == (row.option_id in deciding)
        else dataclasses.replace(row, tied=row.option_id in deciding)
        for row in result.rows
    )
    return dataclasses.replace(result, rows=rows)


def polls_of_step(state: SessionState, step_id: str) -> list[PollState]:
    """A step's polls in the order they were made: the script's, then runoffs."""
    found = [p for p in state.polls.values() if p.step_id == step_id]
    return sorted(found, key=lambda p: (len(p.poll_id), p.poll_id))


def rank_places(result: PollResult) -> int:
    """The deepest place any ballot of a ranking filled (at least 1)."""
    deepest = 0
    for row in result.rows:
        used = [i for i, n in enumerate(row.positions) if n]
        if used:
            deepest = max(deepest, used[-1] + 1)
    return max(1, deepest)


def number_text(value: float, lang: str) -> str:
    text = str(int(value)) if float(value).is_integer() else f"{value:.1f}"
    return text.replace(".", ",") if lang == "da" else text


def result_chart(
    result: PollResult,
    rules: PollRules,
    *,
    title: str,
    lang: str,
    tied: str,
    empty: str,
    style: ChartStyle,
) -> Markup:
    """The server-rendered SVG bar chart of a counted result (labels XML-escaped)."""
    top = float(rules.scale_max) if rules.type is PollType.SCORE else None
    svg = bar_chart_svg(
        result.rows,
        title=title,
        value_format=lambda value: number_text(value, lang),
        tie_label=tied,
        empty_text=empty,
        max_value=top,
        style=style,
    )
    # Scaled down to fit a screen's height, the chart keeps to the left edge.
    svg = svg.replace("<svg ", '<svg preserveAspectRatio="xMinYMin meet" ', 1)
    return Markup(svg)  # noqa: S704  (bar_chart_svg escapes every label)


@dataclass(frozen=True)
class PollPanel:
    """A poll as the facilitator's panel reads it: everything, live."""

    poll: PollState
    polls: Mapping[str, PollState]

    @property
    def count(self) -> int:
        return ballot_count(self.poll)

    @property
    def live(self) -> PollResult | None:
        """The count so far while open (facilitator only), the stored count after;
        ties flagged only where they decide something."""
        return shown_result(live_result(self.poll), self.poll.top_n)

    @property
    def result(self) -> PollResult | None:
        """The stored count (once closed), ties flagged where they decide something."""
        return shown_result(self.poll.result, self.poll.top_n)

    @property
    def voters(self) -> tuple[str, ...]:
        """Who has voted (participant ids), for named polls only."""
        return () if self.poll.anonymous else tuple(sorted(self.poll.ballots))

    @property
    def runoffs(self) -> list[PollState]:
        return runoffs_of(self.polls, self.poll.poll_id)

    @property
    def can_reopen(self) -> bool:
        return self.poll.status is PollStatus.CLOSED and not self.runoffs

    @property
    def ties(self) -> list[Tie]:
        """Ties of the counted result that decide something (first place, the
        cut-off of the top N) and that no runoff has been started for."""
        started = {frozenset(r.option_ids) for r in self.runoffs}
        return [t for t in deciding_ties_of(self.poll) if frozenset(t.option_ids) not in started]

    @property
    def top_n(self) -> int | None:
        return self.poll.top_n

    @property
    def unfilled(self) -> int:
        """Places of the top N that nobody's votes reached (no runoff for those)."""
        result, top = self.poll.result, self.poll.top_n
        return 0 if result is None or top is None else cutoff(result, top).unfilled

    @property
    def voted_options(self) -> int:
        """How many options got any votes at all."""
        result = self.poll.result
        return 0 if result is None else sum(1 for row in result.rows if row.voted)

    @property
    def ranked(self) -> tuple[RankedOption, ...]:
        """The counted order, runoffs applied, with horizons and owners."""
        return ranked_options(self.polls, self.poll.poll_id)

    def label(self, option_id: str) -> str:
        return self.poll.label(option_id) or option_id

    def labels(self, option_ids: tuple[str, ...]) -> list[str]:
        return [self.label(o) for o in option_ids]


@dataclass(frozen=True)
class ProjectorPoll:
    """What the wall may show: the count (if the script allows) and the result once
    published, nothing else (built from the engine's projector_view)."""

    view: ProjectorPollView
    rules: PollRules
    runoff: bool
    final: tuple[RankedOption, ...] = ()  # the whole order once a runoff settled a tie
    top_n: int | None = None

    @property
    def result(self) -> PollResult | None:
        """The published result, ties flagged only where they decide something."""
        return shown_result(self.view.result, self.top_n)

    def chart(self, lang: str, tied: str, empty: str) -> Markup | None:
        result = self.result
        if result is None:
            return None
        return result_chart(
            result,
            self.rules,
            title=self.view.question,
            lang=lang,
            tied=tied,
            empty=empty,
            style=PROJECTOR_CHART_COMPACT if len(result.rows) >= COMPACT_FROM else PROJECTOR_CHART,
        )


@dataclass(frozen=True)
class MyPoll:
    """One poll as one phone sees it: the poll, this participant's own ballot, and
    the result only once published. Hashable, so equal views render once: it
    holds what the phone shows of its ballot, not the ballot's id, so phones
    that voted alike share one rendering (in a burst: a handful, not one per
    voter)."""

    poll_id: str
    question: str
    type: PollType
    status: PollStatus
    options: tuple[tuple[str, str], ...]
    rules: PollRules
    allow_change: bool
    anonymous: bool
    runoff: bool
    voted: bool
    chosen: tuple[str, ...]  # choice, approval, rank (best first)
    numbers: tuple[tuple[str, int], ...]  # dot, score
    can_vote: bool
    dots_left: int | None
    result: PollResult | None

    def number(self, option_id: str) -> int:
        return dict(self.numbers).get(option_id, 0)

    def scored(self, option_id: str) -> int | None:
        return dict(self.numbers).get(option_id)

    def label(self, option_id: str) -> str:
        return dict(self.options).get(option_id, option_id)

    @property
    def dots_used(self) -> int:
        return sum(n for _, n in self.numbers)

    @property
    def per_option(self) -> int:
        """Most dots on one option."""
        cap = self.rules.max_per_option
        return self.rules.dots if cap is None else min(cap, self.rules.dots)

    @property
    def ranked_positions(self) -> int:
        """How many places count in a ranking (all, or the top k): the most
        options one ballot may rank."""
        return self.rules.rank_positions(len(self.options))

    @property
    def ranked(self) -> tuple[tuple[int, str, str], ...]:
        """(place in the script, id, label) of this voter's saved ranking, best
        first: empty until they rank something (never the script's order, which
        would count as their vote)."""
        where = {o: (i, label) for i, (o, label) in enumerate(self.options)}
        return tuple((where[o][0], o, where[o][1]) for o in self.chosen if o in where)

    @property
    def unranked(self) -> tuple[tuple[int, str, str], ...]:
        """(place in the script, id, label) of the options not in this voter's ranking."""
        return tuple(
            (i, o, label) for i, (o, label) in enumerate(self.options) if o not in self.chosen
        )

    @property
    def scale(self) -> tuple[int, ...]:
        return tuple(range(self.rules.scale_min, self.rules.scale_max + 1))

    def chart(self, lang: str, tied: str, empty: str) -> Markup | None:
        if self.result is None:
            return None
        return result_chart(
            self.result,
            self.rules,
            title=self.question,
            lang=lang,
            tied=tied,
            empty=empty,
            style=PHONE_CHART,
        )


def my_poll(poll: PollState, view: ParticipantPollView) -> MyPoll:
    ballot = view.own_ballot
    chosen: tuple[str, ...] = ()
    numbers: tuple[tuple[str, int], ...] = ()
    if ballot is not None:
        payload = ballot.payload
        if isinstance(payload, Mapping):
            numbers = tuple(sorted((str(k), int(n)) for k, n in payload.items()))
        elif isinstance(payload, list | tuple):
            chosen = tuple(str(o) for o in payload)
    return MyPoll(
        poll_id=view.poll_id,
        question=view.question,
        type=view.type,
        status=view.status,
        options=view.options,
        rules=view.rules,
        allow_change=poll.allow_change,
        anonymous=poll.anonymous,
        runoff=poll.runoff_of is not None,
        voted=ballot is not None,
        chosen=chosen,
        numbers=numbers,
        can_vote=view.can_vote,
        dots_left=view.dots_left,
        result=shown_result(view.result, poll.top_n),
    )


def my_polls(state: SessionState, participant_id: str, voter_key: bytes) -> tuple[MyPoll, ...]:
    """The current step's polls as this phone sees them: open ones first, then newest."""
    step = state.step
    if not isinstance(step, PollStep) or participant_id not in state.participants:
        return ()
    polls = polls_of_step(state, step.id)
    if any(p.status is not PollStatus.DRAFT for p in polls):
        polls = [p for p in polls if p.status is not PollStatus.DRAFT]
    else:
        polls = polls[:1]  # "the vote opens soon"
    mine = [
        my_poll(p, participant_view(p, voter_for(state, voter_key, p.poll_id, participant_id)))
        for p in polls
    ]
    order = {m.poll_id: i for i, m in enumerate(mine)}
    mine.sort(key=lambda m: (m.status is not PollStatus.OPEN, -order[m.poll_id]))
    return tuple(mine)
