"""The fixed strings of the documents, in Danish and English.

A typed dataclass rather than a dict, so a missing or misspelt label is a
type error, not a KeyError in front of a coordinator.
"""

from __future__ import annotations

from dataclasses import dataclass

from server.minutes.model import Horizon, Language


@dataclass(frozen=True, slots=True)
class Labels:
    minutes: str
    draft: str
    draft_notice: str
    engagement: str
    session_type: str
    date: str
    time: str
    place: str
    case: str
    learning_question: str
    participants: str
    anonymous_participant: str
    decisions: str
    decision: str
    decided_by: str
    step: str
    edited: str
    no_decisions: str
    actions: str
    action: str
    who: str
    due: str
    no_actions: str
    polls: str
    poll_type: str
    ballots: str
    no_votes: str
    running: str
    option: str
    rank: str
    tied: str
    result: str
    votes_by_name: str
    voter: str
    choice: str
    agenda: str
    start: str
    duration: str
    cards: str
    unclustered: str
    step_contents: str
    next_meeting: str
    goals: str
    page: str  # "Side" in "Side 2 af 5"
    of: str
    no: str  # column head for a running number
    yes_word: str
    no_word: str
    journal_note: str
    participant_roles: str
    agreed_actions: str
    name_removed: str
    minutes_prefix: str  # file-name prefix, e.g. "referat"
    # Development plan
    development_plan: str
    focus_area: str
    priority: str
    horizon: str
    owner: str
    updated: str
    no_focus_areas: str
    plan_fields: tuple[str, str, str, str, str, str]
    horizons: dict[Horizon, str]
    session_types: dict[str, str]
    poll_types: dict[str, str]
    value_heads: dict[str, str]  # the result column's head per poll type
    hour_abbr: str
    minute_abbr: str
    less_than_a_minute: str
    and_word: str


DA = Labels(
    minutes="Referat",
    draft="UDKAST",
    draft_notice="Udkast: mødet er ikke afsluttet, og referatet kan ændre sig.",
    engagement="Forløb",
    session_type="Mødetype",
    date="Dato",
    time="Tid",
    place="Sted",
    case="Sag",
    learning_question="Læringsspørgsmål",
    participants="Deltagere",
    anonymous_participant="(uden navn)",
    decisions="Beslutninger",
    decision="Beslutning",
    decided_by="Besluttet af",
    step="Punkt",
    edited="redigeret",
    no_decisions="Der er ikke registreret nogen beslutninger.",
    actions="Handlinger",
    action="Handling",
    who="Ansvarlig",
    due="Frist",
    no_actions="Der er ikke registreret nogen handlinger.",
    polls="Afstemninger",
    poll_type="Afstemningstype",
    ballots="Afgivne stemmer",
    no_votes="Der er ikke afgivet nogen stemmer.",
    running="i gang",
    option="Svarmulighed",
    rank="Placering",
    tied="delt",
    result="Resultat",
    votes_by_name="Stemmer med navn",
    voter="Deltager",
    choice="Stemte",
    agenda="Dagsorden og forløb",
    start="Start",
    duration="Varighed",
    cards="Kort",
    unclustered="Øvrige kort",
    step_contents="Kort og temaer fra punkterne",
    next_meeting="Næste møde",
    goals="Det skal være nået til næste møde",
    page="Side",
    of="af",
    no="Nr.",
    yes_word="ja",
    no_word="nej",
    journal_note="Journalnotat",
    participant_roles="Deltagere (roller)",
    agreed_actions="Aftalte handlinger",
    name_removed="[navn]",
    minutes_prefix="referat",
    development_plan="Udviklingsplan",
    focus_area="Indsatsområde",
    priority="Prioritet",
    horizon="Tidsperspektiv",
    owner="Ansvarlig",
    updated="Opdateret",
    no_focus_areas="Udviklingsplanen har endnu ingen indsatsområder.",
    plan_fields=("Formål", "Aktivitet", "Mål", "Aktører", "Tidsplan og opfølgning", "Status"),
    horizons={
        Horizon.SHORT: "Kort sigt",
        Horizon.MEDIUM: "Mellemlang sigt",
        Horizon.LONG: "Lang sigt",
    },
    session_types={
        "kickoff": "Opstartsworkshop",
        "case_meeting": "Heldagsmøde om sager",
        "consultation": "Høring",
        "implementation": "Implementeringsworkshop",
        "kvifa": "Faglig sparring (Kvifa)",
        "steering_group": "Styregruppemøde",
        "follow_up": "Opfølgningsmøde",
        "politicians": "Præsentation for politikere",
        "family_conference": "Familierådslagning",
        "other": "Møde",
    },
    poll_types={
        "choice": "Valg",
        "approval": "Godkendelse (flere valg)",
        "dot": "Prikstemmer",
        "rank": "Rangordning",
        "score": "Pointskala",
    },
    value_heads={
        "choice": "Stemmer",
        "approval": "Stemmer",
        "dot": "Prikker",
        "rank": "Point",
        "score": "Gennemsnit",
    },
    hour_abbr="t",
    minute_abbr="min",
    less_than_a_minute="under 1 min",
    and_word="og",
)

EN = Labels(
    minutes="Minutes",
    draft="DRAFT",
    draft_notice="Draft: the meeting has not ended, and these minutes may change.",
    engagement="Engagement",
    session_type="Meeting type",
    date="Date",
    time="Time",
    place="Place",
    case="Case",
    learning_question="Learning question",
    participants="Participants",
    anonymous_participant="(no name)",
    decisions="Decisions",
    decision="Decision",
    decided_by="Decided by",
    step="Step",
    edited="edited",
    no_decisions="No decisions were recorded.",
    actions="Actions",
    action="Action",
    who="Owner",
    due="Due",
    no_actions="No actions were recorded.",
    polls="Polls",
    poll_type="Poll type",
    ballots="Ballots cast",
    no_votes="No votes were cast.",
    running="running",
    option="Option",
    rank="Rank",
    tied="tied",
    result="Result",
    votes_by_name="Votes by name",
    voter="Participant",
    choice="Voted",
    agenda="Agenda and timing",
    start="Start",
    duration="Duration",
    cards="Cards",
    unclustered="Other cards",
    step_contents="Cards and themes from the steps",
    next_meeting="Next meeting",
    goals="To be reached by the next meeting",
    page="Page",
    of="of",
    no="No.",
    yes_word="yes",
    no_word="no",
    journal_note="Journal note",
    participant_roles="Participants (roles)",
    agreed_actions="Agreed actions",
    name_removed="[name]",
    minutes_prefix="minutes",
    development_plan="Development plan",
    focus_area="Focus area",
    priority="Priority",
    horizon="Time horizon",
    owner="Owner",
    updated="Updated",
    no_focus_areas="The development plan has no focus areas yet.",
    plan_fields=("Purpose", "Activity", "Goal", "Actors", "Schedule and follow-up", "Status"),
    horizons={
        Horizon.SHORT: "Short term",
        Horizon.MEDIUM: "Medium term",
        Horizon.LONG: "Long term",
    },
    session_types={
        "kickoff": "Kick-off workshop",
        "case_meeting": "Full-day case meeting",
        "consultation": "Consultation",
        "implementation": "Implementation workshop",
        "kvifa": "Case sparring (Kvifa)",
        "steering_group": "Steering group meeting",
        "follow_up": "Follow-up meeting",
        "politicians": "Presentation for politicians",
        "family_conference": "Family group conference",
        "other": "Meeting",
    },
    poll_types={
        "choice": "Choice",
        "approval": "Approval (several choices)",
        "dot": "Dot voting",
        "rank": "Ranking",
        "score": "Score",
    },
    value_heads={
        "choice": "Votes",
        "approval": "Votes",
        "dot": "Dots",
        "rank": "Points",
        "score": "Average",
    },
    hour_abbr="h",
    minute_abbr="min",
    less_than_a_minute="under 1 min",
    and_word="and",
)


def labels_for(language: Language | str) -> Labels:
    """Danish unless the language is English."""
    return EN if language == "en" else DA


def session_type_label(labels: Labels, session_type: str) -> str:
    return labels.session_types.get(session_type, session_type)


def poll_type_label(labels: Labels, poll_type: str) -> str:
    return labels.poll_types.get(poll_type, poll_type)


def value_head(labels: Labels, poll_type: str) -> str:
    return labels.value_heads.get(poll_type, labels.result)
