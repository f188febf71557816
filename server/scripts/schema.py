"""The facilitation-script language: one pydantic model per step kind.

A script is YAML: metadata, then an ordered list of steps. Every model forbids
unknown keys, so a typo is an error with a hint rather than a silently ignored
setting. Timeboxes are in minutes.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

SLUG = r"^[a-z0-9][a-z0-9_-]{0,63}$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class SessionType(StrEnum):
    KICKOFF = "kickoff"
    CASE_MEETING = "case_meeting"
    CONSULTATION = "consultation"
    IMPLEMENTATION = "implementation"
    KVIFA = "kvifa"
    STEERING_GROUP = "steering_group"
    FOLLOW_UP = "follow_up"
    POLITICIANS = "politicians"
    FAMILY_CONFERENCE = "family_conference"
    OTHER = "other"


class Language(StrEnum):
    DA = "da"
    EN = "en"


class Role(Strict):
    """A role people can have in a session (besides the facilitator)."""

    id: str = Field(pattern=SLUG)
    title: str = Field(min_length=1, max_length=80)
    description: str = ""


class StepBase(Strict):
    id: str = Field(pattern=SLUG)
    title: str = Field(min_length=1, max_length=120)
    prompt: str = Field(default="", max_length=2000)
    timebox: float | None = Field(default=None, gt=0, le=600, description="minutes")
    notes: str = Field(default="", max_length=4000, description="facilitator notes")
    cards: bool = Field(default=False, description="participants may add cards in this step")


class PresentationStep(StepBase):
    """Information on the wall; someone presents."""

    kind: Literal["presentation"]
    presenter: str | None = Field(default=None, description="role id of who presents")
    body: str = Field(default="", max_length=8000)


class DiscussionStep(StepBase):
    """A timed discussion around one or more questions."""

    kind: Literal["discussion"]
    questions: tuple[str, ...] = ()


class RoundMode(StrEnum):
    SPEAK = "speak"
    WRITE = "write"


class RoundStep(StepBase):
    """Each participant in turn, in a visible speaking order."""

    kind: Literal["round"]
    mode: RoundMode = RoundMode.SPEAK
    listeners: tuple[str, ...] = Field(
        default=(), description="role ids who only listen in this round (e.g. case_owner)"
    )
    answerers: tuple[str, ...] = Field(
        default=(),
        description="role ids who answer the others' questions: no turn of their own, "
        "but not silenced (e.g. case_owner in a question round)",
    )
    speaker_timebox: float | None = Field(default=None, gt=0, le=60, description="minutes")
    questions: tuple[str, ...] = ()


CARDS_PER_PARTICIPANT = 50
"""Cards one participant may add in a step whose script sets no limit (the engine's
bound on a flood; a brainstorm's `max_cards_per_participant` sets its own)."""


class BrainstormStep(StepBase):
    """Cards from everyone, grouped into clusters (themes)."""

    kind: Literal["brainstorm"]
    cards: bool = True
    clusters: tuple[str, ...] = Field(default=(), description="preset cluster titles")
    max_cards_per_participant: int | None = Field(
        default=None, ge=1, le=100, description="None: at most CARDS_PER_PARTICIPANT"
    )
    propose_focus_areas: bool = Field(
        default=False, description="clusters become proposed focus areas of the engagement"
    )


class PollType(StrEnum):
    CHOICE = "choice"
    APPROVAL = "approval"
    DOT = "dot"
    RANK = "rank"
    SCORE = "score"


class OptionSource(StrEnum):
    SCRIPT = "script"
    FACILITATOR = "facilitator"
    CARDS = "cards"
    CLUSTERS = "clusters"
    FOCUS_AREAS = "focus_areas"


class PollStep(StepBase):
    kind: Literal["poll"]
    question: str = Field(min_length=1, max_length=500)
    type: PollType
    options: tuple[str, ...] = ()
    options_from: OptionSource = OptionSource.SCRIPT
    max_choices: int = Field(default=1, ge=1, le=50)
    dots: int = Field(default=5, ge=1, le=100)
    max_per_option: int | None = Field(default=None, ge=1, le=100)
    top_k: int | None = Field(default=None, ge=1, le=50)
    scale_min: int = Field(default=1, ge=0, le=10)
    scale_max: int = Field(default=5, ge=1, le=100)
    anonymous: bool = True
    allow_change: bool = True
    show_count_on_projector: bool = True
    assign_horizon: bool = Field(
        default=False, description="after the vote, set time horizon and owner per option"
    )

    @model_validator(mode="after")
    def _check(self) -> PollStep:
        if self.options_from is OptionSource.SCRIPT and len(self.options) < 2:
            raise ValueError("a poll with options_from: script needs at least two options")
        if len(set(self.options)) != len(self.options):
            raise ValueError("poll options must be different from each other")
        if self.scale_min >= self.scale_max:
            raise ValueError("scale_min must be smaller than scale_max")
        if self.type is PollType.CHOICE and self.options and self.max_choices > len(self.options):
            raise ValueError("max_choices is larger than the number of options")
        return self


class Capture(StrEnum):
    DECISIONS = "decisions"
    ACTIONS = "actions"
    BOTH = "both"


class DecisionStep(StepBase):
    """Decisions and actions (what, who, by when) are recorded here."""

    kind: Literal["decision"]
    capture: Capture = Capture.BOTH
    journal_note: bool = Field(default=False, description="the decision becomes a journal note")
    next_meeting: bool = Field(default=False, description="agree the next date and goals")


class CaseWalkthroughStep(StepBase):
    """Cases from the engagement's case register, one at a time on the wall."""

    kind: Literal["case_walkthrough"]
    cases: Literal["selected", "all"] = "selected"
    per_case_timebox: float | None = Field(default=None, gt=0, le=120, description="minutes")
    cards: bool = True


class PlanEditStep(StepBase):
    """Edit the development plan: per focus area, its rows and status."""

    kind: Literal["plan_edit"]
    fields: tuple[Literal["purpose", "activity", "goal", "actors", "schedule", "status"], ...] = (
        "status",
    )


class ConsultationStep(StepBase):
    """A written consultation (høring) over days, by link and access code."""

    kind: Literal["consultation"]
    window_days: int = Field(default=14, ge=1, le=60)
    subject: Literal["focus_areas"] = "focus_areas"


class BreakStep(StepBase):
    kind: Literal["break"]


class PrivateTimeStep(StepBase):
    """One group works alone (the family's private time in a family group conference)."""

    kind: Literal["private_time"]
    group: str = Field(description="role id of who stays, e.g. family")
    others_message: str = Field(
        default="", max_length=500, description="shown on the other participants' screens"
    )


Step = Annotated[
    PresentationStep
    | DiscussionStep
    | RoundStep
    | BrainstormStep
    | PollStep
    | DecisionStep
    | CaseWalkthroughStep
    | PlanEditStep
    | ConsultationStep
    | BreakStep
    | PrivateTimeStep,
    Field(discriminator="kind"),
]

STEP_KINDS: tuple[str, ...] = (
    "presentation",
    "discussion",
    "round",
    "brainstorm",
    "poll",
    "decision",
    "case_walkthrough",
    "plan_edit",
    "consultation",
    "break",
    "private_time",
)


class Script(Strict):
    id: str = Field(pattern=SLUG)
    title: str = Field(min_length=1, max_length=200)
    description: str = ""
    session_type: SessionType = SessionType.OTHER
    language: Language = Language.DA
    duration: float = Field(gt=0, le=24 * 60, description="expected minutes")
    roles: tuple[Role, ...] = ()
    steps: tuple[Step, ...] = Field(min_length=1, max_length=200)

    @model_validator(mode="after")
    def _check(self) -> Script:
        seen: set[str] = set()
        for step in self.steps:
            if step.id in seen:
                raise ValueError(f"two steps have the id {step.id!r}; step ids must be unique")
            seen.add(step.id)
        role_ids = {r.id for r in self.roles}
        if len(role_ids) != len(self.roles):
            raise ValueError("two roles have the same id")
        for step in self.steps:
            named: tuple[str, ...] = ()
            if isinstance(step, RoundStep):
                named = (*step.listeners, *step.answerers)
            elif isinstance(step, PrivateTimeStep):
                named = (step.group,)
            elif isinstance(step, PresentationStep) and step.presenter:
                named = (step.presenter,)
            for rid in named:
                if rid not in role_ids:
                    raise ValueError(
                        f"step {step.id!r} names the role {rid!r}, which is not under roles:"
                    )
        return self

    def step(self, step_id: str) -> Step | None:
        return next((s for s in self.steps if s.id == step_id), None)

    def index_of(self, step_id: str) -> int | None:
        return next((i for i, s in enumerate(self.steps) if s.id == step_id), None)
