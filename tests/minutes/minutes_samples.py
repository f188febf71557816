"""Hand-built, realistic minutes and small helpers for the renderer tests."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from zoneinfo import ZoneInfo

import docx
from docx.table import Table
from docx.text.paragraph import Paragraph

from server.minutes.model import (
    Action,
    Cluster,
    Decision,
    DevelopmentPlan,
    Horizon,
    Minutes,
    NextMeeting,
    Participant,
    PlanRow,
    Poll,
    PollResultRow,
    Step,
    VoterLine,
)

CPH = ZoneInfo("Europe/Copenhagen")


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=CPH)


KVIFA_DAY = dt.date(2025, 3, 4)

KVIFA_PARTICIPANTS = (
    Participant("Mette Søgaard", "Sagsejer"),
    Participant("Jørgen Ålund", "Faglig koordinator"),
    Participant("Søren Bøgh", "Rådgiver"),
    Participant("Åse Kjærgaard", "Rådgiver"),
    Participant("Line Møller", "Familiebehandler"),
    Participant(None, "Rådgiver"),
)


def make_kvifa() -> Minutes:
    d = KVIFA_DAY
    steps = (
        Step("Præsentation af sagen", "presentation", at(d, 9, 0), 8 * 60 + 20),
        Step(
            "Spørgerunde",
            "round",
            at(d, 9, 9),
            9 * 60,
            unclustered=(
                "Hvornår har drengen sidst haft samvær med far?",
                "Hvad siger skolen om fraværet – er det steget siden sommerferien?",
                "Er der talt med drengen alene?",
            ),
        ),
        Step(
            "Refleksionsrunde",
            "round",
            at(d, 9, 18),
            12 * 60 + 40,
            clusters=(
                Cluster(
                    "Teori",
                    (
                        "ICS: barnets udvikling skal ses i sammenhæng med forældrekompetencer "
                        "og familie- og miljøforhold.",
                        "Loyalitetskonflikt er velbeskrevet; drengen kan ikke selv bære valget.",
                    ),
                ),
                Cluster(
                    "Erfaring",
                    (
                        "Børnesamtaler på skolen med en kendt voksen giver ofte mere åbenhed.",
                        "Skolefravær > 20 % i efteråret er et tydeligt signal.",
                    ),
                ),
                Cluster("Etik", ("Drengens perspektiv må ikke forsvinde i forældrekonflikten.",)),
            ),
        ),
        Step(
            "Forslagsrunde",
            "round",
            at(d, 9, 31),
            10 * 60,
            unclustered=(
                "Netværksmøde med skole og PPR",
                "Børnesamtale på skolen",
                "Henvisning til familiebehandling med fokus på samarbejdet mellem forældrene",
            ),
        ),
        Step("Beslutning om handling", "decision", at(d, 9, 41), 7 * 60),
        Step("Evaluering af proces og indhold", "discussion", at(d, 9, 48), 5 * 60),
        Step("Afslutning", "presentation", at(d, 9, 53), 2 * 60 + 10),
    )
    poll = Poll(
        question="Hvilket forslag skal sagsejer arbejde videre med først?",
        poll_type="choice",
        ballots=5,
        results=(
            PollResultRow("Netværksmøde med skole og PPR", 2, 1, True),
            PollResultRow("Børnesamtale på skolen", 2, 1, True),
            PollResultRow("Henvisning til familiebehandling", 1, 3),
        ),
        step_title="Forslagsrunde",
    )
    return Minutes(
        title="Faglig sparring om Sag 17",
        session_type="kvifa",
        language="da",
        engagement_title="Kvifa-sparring, Team Øst",
        place="Mødelokale 2.14, Rådhuset",
        date=d,
        started_at=at(d, 9, 0),
        ended_at=at(d, 9, 55),
        participants=KVIFA_PARTICIPANTS,
        steps=steps,
        polls=(poll,),
        decisions=(
            Decision(
                "Sagsejer indkalder til netværksmøde med skole og PPR inden for to uger. "
                "Børnesamtalen gennemføres på skolen med en kendt voksen til stede.",
                decided_by="Sagsejer efter sparring i teamet",
                step_title="Beslutning om handling",
            ),
            Decision(
                "Sagen tages op igen i sparringsgruppen om seks uger.",
                decided_by="Faglig koordinator",
                step_title="Beslutning om handling",
                edited=True,
            ),
        ),
        actions=(
            Action(
                "Indkalde til netværksmøde med skole og PPR", "Mette Søgaard", dt.date(2025, 3, 18)
            ),
            Action(
                "Gennemføre børnesamtale på skolen (§ 48)", "Mette Søgaard", dt.date(2025, 3, 25)
            ),
            Action(
                "Sende materiale om loyalitetskonflikter til teamet",
                "Jørgen Ålund",
                dt.date(2025, 3, 7),
            ),
        ),
        case_label="Sag 17",
        learning_question=(
            "Hvordan sikrer vi, at drengens egne ønsker til samvær vægtes i den "
            "børnefaglige undersøgelse, når forældrene er uenige?"
        ),
    )


WORKSHOP_DAY = dt.date(2025, 5, 20)

FOCUS_AREAS = (
    "Kvalitet i børnefaglige undersøgelser",
    "Tidlig indsats og underretninger",
    "Handleplaner med målbare mål",
    "Inddragelse af barnets perspektiv",
    "Ledelsestilsyn og faglig sparring",
    "Overgang fra ung til voksen",
    "Samarbejde med skole og dagtilbud",
    "Afslutning af sager",
)


def make_workshop() -> Minutes:
    d = WORKSHOP_DAY
    participants = (
        Participant("Hanne Østergaard", "Afdelingsleder"),
        Participant("Bjørn Kæmpe", "Teamleder, myndighed"),
        Participant("Birgitte Å. Lund", "Teamleder, familiebehandling"),
        Participant("Søs Frølund", "Faglig koordinator"),
        Participant("Mads Ærenlund", "Rådgiver"),
        Participant("Trine Bæk", "Rådgiver"),
        Participant("Jens Højgaard", "Rådgiver"),
        Participant("Pia Skødt", "Sagsbehandler, handicap"),
        Participant("Ole Krøyer", "Konsulent, KL"),
        Participant("Maria Løvstrøm", "Konsulent, KL"),
    )
    clusters = tuple(
        Cluster(
            area,
            (
                f"Fælles skabelon og eksempler for {area.lower()}",
                "Faglig sparring hver 14. dag i teamet",
                "Opfølgning på sagsgennemgang efter et halvt år",
            ),
        )
        for area in FOCUS_AREAS[:4]
    )
    steps = (
        Step("Velkomst og rammer for dagen", "presentation", at(d, 9, 0), 20 * 60),
        Step(
            "Skærpelse af indsatsområderne",
            "brainstorm",
            at(d, 9, 20),
            75 * 60,
            clusters=clusters,
            unclustered=("Husk at inddrage PPR i arbejdet", "Hvem ejer den samlede plan?"),
        ),
        Step("Pause", "break", at(d, 10, 35), 15 * 60),
        Step("Prioritering af indsatsområder", "poll", at(d, 10, 50), 35 * 60),
        Step("Tidsperspektiv og ejerskab", "decision", at(d, 11, 25), 65 * 60),
        Step("Frokost", "break", at(d, 12, 30), 45 * 60),
        Step("Udviklingsplanen: formål, aktivitet og mål", "plan_edit", at(d, 13, 15), 110 * 60),
        Step("Afrunding og næste skridt", "discussion", at(d, 15, 5), 25 * 60),
    )
    dot_values = (21, 17, 17, 12, 9, 6, 4, 2)
    ranks = (1, 2, 2, 4, 5, 6, 7, 8)
    dot_poll = Poll(
        question="Hvilke indsatsområder skal prioriteres først?",
        poll_type="dot",
        ballots=14,
        results=tuple(
            PollResultRow(area, value, rank, tied=rank == 2)
            for area, value, rank in zip(FOCUS_AREAS, dot_values, ranks, strict=True)
        ),
        step_title="Prioritering af indsatsområder",
    )
    named_poll = Poll(
        question="Skal planen forelægges styregruppen den 12. juni?",
        poll_type="choice",
        ballots=4,
        results=(PollResultRow("Ja", 3, 1), PollResultRow("Nej", 1, 2)),
        named=True,
        voters=(
            VoterLine("Hanne Østergaard", "Ja"),
            VoterLine("Bjørn Kæmpe", "Ja"),
            VoterLine("Birgitte Å. Lund", "Ja"),
            VoterLine("Søs Frølund", "Nej"),
        ),
        step_title="Afrunding og næste skridt",
    )
    return Minutes(
        title="Implementeringsworkshop: Udviklingsplan for børne- og familieområdet",
        session_type="implementation",
        language="da",
        engagement_title="Sagsgennemgang 2.0, Varde Kommune",
        place="Varde Rådhus, mødesal 1",
        date=d,
        started_at=at(d, 9, 0),
        ended_at=at(d, 15, 30),
        participants=participants,
        steps=steps,
        polls=(dot_poll, named_poll),
        decisions=(
            Decision(
                "Kvalitet i børnefaglige undersøgelser prioriteres højest og igangsættes på "
                "kort sigt.",
                "Styregruppens repræsentanter",
                "Tidsperspektiv og ejerskab",
            ),
            Decision(
                "Tidlig indsats og underretninger samt handleplaner med målbare mål "
                "igangsættes på mellemlang sigt.",
                "Styregruppens repræsentanter",
                "Tidsperspektiv og ejerskab",
            ),
            Decision(
                "Overgang fra ung til voksen og afslutning af sager udskydes til lang sigt.",
                "Afdelingsleder",
                "Tidsperspektiv og ejerskab",
                edited=True,
            ),
            Decision(
                "Planen forelægges styregruppen den 12. juni.",
                "Flertal ved afstemning",
                "Afrunding og næste skridt",
            ),
        ),
        actions=(
            Action(
                "Renskrive udviklingsplanen og sende den i høring",
                "Ole Krøyer",
                dt.date(2025, 5, 27),
            ),
            Action(
                "Udpege tovholder for hvert indsatsområde", "Hanne Østergaard", dt.date(2025, 6, 2)
            ),
            Action(
                "Udarbejde fælles skabelon for børnefaglige undersøgelser",
                "Søs Frølund",
                dt.date(2025, 8, 15),
            ),
            Action("Planlægge temadag om barnets perspektiv", "Bjørn Kæmpe", None),
        ),
        next_meeting=NextMeeting(
            starts_at=at(dt.date(2025, 8, 26), 13, 0),
            ends_at=at(dt.date(2025, 8, 26), 15, 0),
            place="Varde Rådhus, mødesal 1",
            goals=(
                "Skabelonen for børnefaglige undersøgelser er afprøvet i to teams.",
                "Alle indsatsområder har en udpeget tovholder.",
            ),
        ),
    )


def make_plan() -> DevelopmentPlan:
    return DevelopmentPlan(
        title="Udviklingsplan for børne- og familieområdet 2025–2026",
        engagement_title="Sagsgennemgang 2.0, Varde Kommune",
        updated=dt.date(2025, 5, 20),
        rows=(
            PlanRow(
                title="Kvalitet i børnefaglige undersøgelser",
                priority=1,
                horizon=Horizon.SHORT,
                owner="Teamleder, myndighed",
                purpose="Overholdelse af fire måneders fristen for den børnefaglige "
                "undersøgelse, og undersøgelsen er ikke mere omfattende end formålet "
                "tilsiger.",
                activity="Udarbejde kvalitetsstandard og procesbeskrivelse; indsamle gode "
                "eksempler; systematisk faglig sparring og vejledning.",
                goal="Fælles kvalitetsforståelse blandt rådgiverne af den gode "
                "børnefaglige undersøgelse.",
                actors="Familieafsnittet",
                schedule="Systematikkursus 1. halvår 2025. Opfølgning via sagsgennemgang maj 2026.",
                status="Planlægges.",
                description="Sikre at sagsflowet understøtter fristerne, og at ICS bliver "
                "implementeret som socialfaglig metode.",
            ),
            PlanRow(
                title="Tidlig indsats og underretninger",
                priority=2,
                horizon=Horizon.MEDIUM,
                owner="Afdelingsleder",
                purpose="Sikre at § 11, stk. 3 bliver anvendt efter sit formål.",
                activity="Opdatering og gennemgang af retningslinjen for modtageenheden.",
                goal="Ensartet forståelse og anvendelse af § 11, stk. 3 i familieafsnittet.",
                actors="Familieafsnittet, Center for Skole og Dagtilbud",
                schedule="Revision 1. kvartal 2026; formidling 2. kvartal 2026. Opfølgning "
                "ved sagsgennemgang 4. kvartal 2026.",
                status="Iværksat; revitalisering af handleguiden er i gang.",
            ),
            PlanRow(
                title="Overgang fra ung til voksen",
                priority=None,
                horizon=Horizon.LONG,
                owner=None,
                purpose="Sikre en god overgang fra ung til voksen.",
                activity="Evaluering og tilpasning af retningslinjen.",
                goal="Retningslinjen er kendt og benyttes efter hensigten.",
                actors="Center for Familie og Forebyggelse; Jobcenter (Ungeenheden)",
                schedule="Evaluering 1. kvartal 2027. Opfølgning 4. kvartal 2027.",
                status="",
            ),
        ),
    )


def docx_text(data: bytes) -> str:
    """All text of a DOCX in document order: paragraphs and table cells."""
    document = docx.Document(io.BytesIO(data))
    lines: list[str] = []
    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            lines.append(block.text)
        elif isinstance(block, Table):
            for row in block.rows:
                lines.append(" | ".join(cell.text for cell in row.cells))
    return "\n".join(lines)


def flat(text: str) -> str:
    """Whitespace (line breaks from PDF layout, too) collapsed to single spaces."""
    return " ".join(text.split())


def assert_in_order(text: str, needles: Sequence[str]) -> None:
    """Each needle occurs in ``text``, after the previous one (whitespace-insensitive)."""
    text = flat(text)
    position = 0
    for needle in map(flat, needles):
        found = text.find(needle, position)
        assert found >= 0, f"{needle!r} missing (or out of order) after position {position}"
        position = found + len(needle)


def make_full_day(cases: int = 20, cards_per_case: int = 10) -> Minutes:
    """A full-day case meeting: one step per case, cards in clusters, many decisions."""
    d = dt.date(2025, 4, 8)
    themes = ("Barnets perspektiv", "Sagsbehandlingsfrister", "Samarbejde med skolen")
    steps = []
    for n in range(1, cases + 1):
        cards = [
            f"Sag {n}, læring {i + 1}: opfølgning på handleplanen skete først efter "
            f"{i + 3} måneder, og barnets ønsker er ikke beskrevet."
            for i in range(cards_per_case)
        ]
        clusters = tuple(
            Cluster(theme, tuple(cards[j :: len(themes)])) for j, theme in enumerate(themes)
        )
        start = at(d, 9, 30) + dt.timedelta(minutes=18 * (n - 1))
        steps.append(Step(f"Sag {n}", "case_walkthrough", start, 17 * 60, clusters=clusters))
    poll = Poll(
        question="Hvilke tværgående temaer skal blive til indsatsområder?",
        poll_type="dot",
        ballots=24,
        results=tuple(PollResultRow(area, 30 - 3 * i, i + 1) for i, area in enumerate(FOCUS_AREAS)),
    )
    return Minutes(
        title="Heldagsmøde om sagsgennemgangen",
        session_type="case_meeting",
        engagement_title="Sagsgennemgang 2.0, Varde Kommune",
        place="Varde Rådhus, byrådssalen",
        date=d,
        started_at=at(d, 9, 0),
        ended_at=at(d, 15, 30),
        participants=tuple(Participant(f"Deltager {i}", "Rådgiver") for i in range(1, 25)),
        steps=tuple(steps),
        polls=(poll,),
        decisions=tuple(
            Decision(
                f"Temaet fra sag {n} indgår i notatet om tværgående temaer.", "Teamet", f"Sag {n}"
            )
            for n in range(1, cases + 1, 2)
        ),
        actions=tuple(
            Action(
                f"Beskrive læring fra sag {n} til høringsnotatet",
                "Konsulent, KL",
                dt.date(2025, 4, 22),
            )
            for n in range(1, cases + 1, 4)
        ),
    )
