"""An invented, pseudonymised case register for the demo and the tests.

Fifty cases ("Sag 1" .. "Sag 50") as consultants would screen them in a case
review like Varde's: each with a cover (forklæde) of 10-12 lines on why it was
chosen and what to look for, a short summary, a learning question and the
focus points it touches. Nothing here is about a real child: the cases are
put together from twelve typical courses, varied by age, household, who was
worried and what was done. No names, no addresses, no CPR numbers.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

FOCUS_POINTS = (
    "Kvalitet og træfsikkerhed i sagsbehandlingen: dokumentation, skriftlig kommunikation, opfølgning og ledelsestilsyn",
    "De tidlige sagsforløb: sagsåbning og akut indgriben – er vi offensive og proaktive nok?",
    "Klagesager og aktindsigt som kilde til læring",
    "Kriterier for at åbne og lukke sager, og dialogen med almenområdet",
)
QUALITY = "Kvalitet og træfsikkerhed"
EARLY = "De tidlige sagsforløb"
COMPLAINTS = "Klagesager og aktindsigt"
OPENING = "Åbning og lukning af sager"


@dataclass(frozen=True)
class Course:
    """A typical course of a case, to be varied into several cases."""

    tags: tuple[str, ...]
    reason: str
    events: tuple[str, str]
    looks: tuple[str, str, str]
    question: str
    note: str
    ages: tuple[int, ...] = ()  # when the course fits only some ages


COURSES: tuple[Course, ...] = (
    Course(
        (EARLY, QUALITY),
        "flere underretninger over to år, før der blev handlet",
        (
            "Tre underretninger om fravær og uro blev besvaret med breve til forældrene.",
            "Den børnefaglige undersøgelse blev først sat i gang efter den fjerde underretning.",
        ),
        (
            "hvordan hver underretning blev vurderet, og af hvem",
            "om barnet blev set og hørt, da bekymringen var størst",
            "hvad der til sidst fik sagen til at skifte spor",
        ),
        "Hvad skulle der til, for at vi havde handlet allerede ved den første eller anden underretning?",
        "Underretningerne kom fra forskellige fagpersoner, som ikke kendte til hinanden.",
    ),
    Course(
        (EARLY,),
        "akut anbringelse uden samtykke efter en weekend med vold i hjemmet",
        (
            "Politiet underrettede en søndag aften, og barnet blev anbragt i døgnpleje samme nat.",
            "Børn og unge-udvalget godkendte formandsafgørelsen inden for syv dage.",
        ),
        (
            "begrundelsen for den akutte indgriben, som den står i journalen",
            "hvordan forældrene blev informeret og partshørt bagefter",
            "om netværket blev undersøgt som et alternativ",
        ),
        "Er vores begrundelser for akut indgriben så klare, at en anden rådgiver ville have truffet samme afgørelse?",
        "Der var ingen tidligere sag på familien.",
    ),
    Course(
        (QUALITY,),
        "et langt forløb med mange rådgiverskift og huller i journalen",
        (
            "Sagen har haft fem rådgivere på fire år.",
            "Handleplanen er ikke opdateret, siden barnet blev anbragt.",
        ),
        (
            "om en ny rådgiver kan forstå sagen ved at læse journalen i en time",
            "sammenhængen mellem undersøgelse, handleplan og opfølgning",
            "hvor ledelsestilsynet har sat spor i sagen",
        ),
        "Hvad skal stå i en sag, for at et rådgiverskift ikke koster barnet et halvt år?",
        "Den seneste rådgiver har selv bedt om, at sagen blev gennemgået.",
    ),
    Course(
        (QUALITY,),
        "opfølgningen på foranstaltningen er sket sent og uden klare mål",
        (
            "Familiebehandlingen har kørt i tyve måneder uden en skriftlig opfølgning.",
            "Behandlerens statusrapporter beskriver aktiviteter, ikke barnets udvikling.",
        ),
        (
            "om målene i handleplanen er til at følge op på",
            "hvem der tog initiativ til de opfølgninger, der trods alt blev holdt",
            "om barnets egen vurdering af indsatsen indgår",
        ),
        "Hvordan ved vi, om en foranstaltning virker – og hvornår stopper vi den?",
        "Udgiften til indsatsen er steget hvert år.",
    ),
    Course(
        (QUALITY, COMPLAINTS),
        "forældrene har klaget over, at de ikke forstod afgørelsen",
        (
            "Afgørelsen om aflastning fyldte fire sider med mange lovhenvisninger.",
            "Mor bad om et møde for at få afgørelsen forklaret.",
        ),
        (
            "afgørelsernes sprog og opbygning",
            "om begrundelsen knytter sig til barnets behov og ikke kun til paragraffer",
            "om klagevejledningen er til at forstå",
        ),
        "Hvordan skriver vi afgørelser, som forældrene kan forstå og handle på?",
        "Familien taler dansk som andetsprog; der blev ikke brugt tolk.",
    ),
    Course(
        (COMPLAINTS,),
        "Ankestyrelsen hjemviste afgørelsen om at stoppe foranstaltningen",
        (
            "Foranstaltningen blev stoppet ved det fyldte 18. år uden en vurdering af efterværn.",
            "Ankestyrelsen fandt, at den unges behov ikke var tilstrækkeligt undersøgt.",
        ),
        (
            "hvad Ankestyrelsen lagde vægt på",
            "om der var en plan for overgangen til voksenlivet",
            "hvordan hjemvisningen blev fulgt op",
        ),
        "Hvad kan vi lære af hjemvisningen, som gælder andre unge på vej mod 18 år?",
        "Den unge har selv klaget med hjælp fra en kontaktperson.",
        ages=(18,),
    ),
    Course(
        (COMPLAINTS, QUALITY),
        "far bad om aktindsigt og fandt fejl i faktuelle oplysninger",
        (
            "Aktindsigten viste, at et referat angav forkert skole og forkert dato for et møde.",
            "Fejlene blev rettet, men fars tillid til forvaltningen var svækket.",
        ),
        (
            "hvordan oplysninger blev kontrolleret, før de blev brugt i vurderingen",
            "hvordan fejlen blev håndteret over for far",
            "om partshøringen kunne have fanget fejlene",
        ),
        "Hvordan bruger vi aktindsigter og klager som en kilde til bedre sagsbehandling?",
        "Forældrene har fælles forældremyndighed, men bor langt fra hinanden.",
    ),
    Course(
        (OPENING,),
        "sagen har været åben i tre år uden en aktiv foranstaltning",
        (
            "Den sidste foranstaltning ophørte for to år siden.",
            "Siden er der kun noteret enkelte telefonopkald fra skolen.",
        ),
        (
            "hvorfor sagen ikke blev lukket",
            "hvad skolen fik at vide, da foranstaltningen stoppede",
            "om der var en aftale om, hvem der holder øje med barnet",
        ),
        "Hvilke kriterier skal vi bruge for at lukke en sag, og hvordan overdrager vi til almenområdet?",
        "Sagen er en af mange åbne sager uden aktivitet i samme team.",
    ),
    Course(
        (OPENING, EARLY),
        "daginstitutionen var bekymret længe, men underrettede først sent",
        (
            "Børnehaven har beskrevet sin bekymring over et år i egne notater.",
            "Ved den første dialog med rådgivningen var barnets sprog og trivsel tydeligt forsinket.",
        ),
        (
            "hvordan dialogen med daginstitutionen foregik",
            "om der var mulighed for anonym sparring før underretningen",
            "om en tidlig forebyggende indsats kunne have været nok",
        ),
        "Hvordan får vi bekymringer fra almenområdet i tale, før de bliver til en sag?",
        "Familien har selv bedt om hjælp på et tidspunkt, men fik ikke svar.",
        ages=(3, 4, 5),
    ),
    Course(
        (QUALITY,),
        "barnet er ikke hørt i de seneste to afgørelser",
        (
            "Børnesamtalen er dokumenteret én gang, da sagen startede.",
            "Barnet har selv sagt til sin kontaktperson, at det gerne vil bo hos far.",
        ),
        (
            "hvordan barnets synspunkter indgår i vurderingerne",
            "om samtalerne er holdt et sted, hvor barnet er trygt",
            "om barnets ønske er blevet besvaret",
        ),
        "Hvordan sikrer vi, at barnets egen stemme vægter i hver afgørelse?",
        "Barnet har en bisidder fra en frivillig organisation.",
    ),
    Course(
        (QUALITY,),
        "fristen for den børnefaglige undersøgelse blev overskredet med tre måneder",
        (
            "Undersøgelsen blev forsinket af sygdom og et rådgiverskift.",
            "Overskridelsen blev ikke opdaget i ledelsestilsynet.",
        ),
        (
            "hvordan fristen blev overvåget",
            "hvad ledelsestilsynet faktisk så på i perioden",
            "om familien blev orienteret om forsinkelsen",
        ),
        "Hvad skal ledelsestilsynet se på, for at en frist ikke glider ubemærket?",
        "Teamet havde i perioden flere sager pr. rådgiver end normalt.",
    ),
    Course(
        (EARLY, OPENING),
        "et godt forløb, hvor netværket blev inddraget tidligt",
        (
            "Der blev holdt netværksmøde inden for de første tre uger.",
            "Mormor og en nabo indgår nu i en fast aftale om weekenderne.",
        ),
        (
            "hvad der gjorde den tidlige inddragelse mulig",
            "hvordan aftalerne med netværket er skrevet ned",
            "om erfaringen kan bruges i andre sager",
        ),
        "Hvad gjorde vi her, som vi kan gøre i flere sager?",
        "Sagen blev lukket efter et år og er ikke genåbnet.",
    ),
)

AGES = (2, 5, 8, 11, 14, 16, 4, 9, 13, 17, 7, 15)
HOMES = (
    "bor hos mor",
    "bor hos far",
    "bor skiftevis hos begge forældre",
    "bor hos mor og hendes nye partner",
    "bor i plejefamilie",
    "bor hos far og to halvsøskende",
)
SOURCES = (
    "skolen",
    "daginstitutionen",
    "sundhedsplejersken",
    "politiet",
    "egen læge",
    "en anonym borger",
    "PPR",
    "en fritidsklub",
)
MEASURES = (
    "familiebehandling to gange om ugen",
    "aflastning hver anden weekend",
    "en fast kontaktperson",
    "anbringelse i plejefamilie",
    "anbringelse på døgninstitution",
    "netværksanbringelse hos mormor",
    "ingen foranstaltning i øjeblikket",
    "praktisk pædagogisk støtte i hjemmet",
)
YEARS = ("et år", "to år", "tre år", "fire år", "halvandet år", "fem år")
SELECTED = (1, 2, 3, 5, 6, 8, 10, 12, 14, 17, 19, 21, 23, 26, 29, 31, 34, 38, 42, 47)


@dataclass(frozen=True)
class DemoCase:
    number: int
    cover: str
    summary: str
    learning_question: str
    tags: str
    reason: str

    @property
    def label(self) -> str:
        return f"Sag {self.number}"


QUESTION_WORDS = ("om ", "hvordan ", "hvad ", "hvem ", "hvor ", "hvorfor ")


def _look(what: str) -> str:
    """'Se efter, om ...' for a question, 'Se på ...' for a thing."""
    return f"Se efter, {what}." if what.startswith(QUESTION_WORDS) else f"Se på {what}."


def case(number: int) -> DemoCase:
    i = number - 1
    course = COURSES[i % len(COURSES)]
    ages = course.ages or AGES
    age = ages[(i * 5) % len(ages)]
    if age >= 18:
        child = f"{'Ung kvinde' if i % 2 else 'Ung mand'} på {age} år"
        home = "bor på eget værelse med støtte"
    else:
        child = f"{'Pige' if i % 2 else 'Dreng'} på {age} år"
        home = HOMES[(i * 7) % len(HOMES)]
    source = SOURCES[(i * 3) % len(SOURCES)]
    if age < 6 and source in ("skolen", "en fritidsklub", "PPR"):
        source = "daginstitutionen"
    measure = MEASURES[(i * 5 + 1) % len(MEASURES)]
    years = YEARS[(i // 3) % len(YEARS)]
    lines = [
        f"Udvalgt, fordi: {course.reason}.",
        f"{child}, {home}.",
        f"Sagen blev åbnet for {years} siden efter en underretning fra {source}.",
        course.events[0],
        course.events[1],
        f"Nu: {measure}.",
        f"{'Fokuspunkter' if len(course.tags) > 1 else 'Fokuspunkt'}: {', '.join(course.tags)}.",
        *(_look(look) for look in course.looks),
        f"Bemærk: {course.note}",
    ]
    if number % 3 == 0:
        lines.append("Sagen er også egnet som eksempel i præsentationen for politikerne.")
    summary = " ".join(
        [
            f"{child} ({home.removeprefix('bor ')}).",
            f"Underretning fra {source} for {years} siden.",
            course.events[0],
            course.events[1],
            f"I dag: {measure}.",
        ]
    )
    return DemoCase(
        number=number,
        cover="\n".join(lines),
        summary=summary,
        learning_question=course.question,
        tags="; ".join(course.tags),
        reason=f"Viser {course.reason}; læringsspørgsmålet er fælles for flere sager.",
    )


def cases(count: int = 50) -> list[DemoCase]:
    return [case(n) for n in range(1, count + 1)]


def register_csv(count: int = 50, *, with_selection: bool = False) -> str:
    """The register as a spreadsheet exports it: semicolons, Danish headers."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    head = ["Sag", "Forklæde", "Resumé", "Læringsspørgsmål", "Fokuspunkter"]
    if with_selection:
        head += ["Udvalgt", "Begrundelse"]
    writer.writerow(head)
    for item in cases(count):
        row = [item.label, item.cover, item.summary, item.learning_question, item.tags]
        if with_selection:
            chosen = item.number in SELECTED
            row += ["ja" if chosen else "nej", item.reason if chosen else ""]
        writer.writerow(row)
    return out.getvalue()


FOCUS_AREAS: tuple[tuple[str, str], ...] = (
    (
        "Tidlig og systematisk vurdering af underretninger",
        "Alle underretninger vurderes inden for 24 timer efter en fast skabelon, og gentagne underretninger ses samlet.",
    ),
    (
        "Klare begrundelser ved akut indgriben",
        "Afgørelser om akut indgriben begrundes, så en anden rådgiver kan følge vurderingen; netværket undersøges altid.",
    ),
    (
        "Barnets stemme i alle afgørelser",
        "Børnesamtalen holdes før hver afgørelse og skrives ind, så det fremgår, hvordan barnets synspunkter er vægtet.",
    ),
    (
        "Handleplaner med mål, der kan følges op",
        "Handleplanerne får få, enkle mål, som både familie, behandler og rådgiver kan se, om er nået.",
    ),
    (
        "Opfølgning på foranstaltninger med faste intervaller",
        "Hver foranstaltning følges op efter tre måneder og derefter hvert halve år, med barnets egen vurdering.",
    ),
    (
        "Afgørelser i et sprog, familien forstår",
        "Afgørelser og breve skrives kort og i hverdagssprog, med begrundelsen først og lovhenvisningerne bagerst.",
    ),
    (
        "Ledelsestilsyn med frister og kvalitet",
        "Ledelsestilsynet følger frister og kvalitet i faste intervaller og drøfter fundene med teamet.",
    ),
    (
        "Læring af klagesager og aktindsigter",
        "Hjemviste afgørelser og aktindsigter gennemgås to gange om året for at finde det, der går igen.",
    ),
    (
        "Kriterier for at åbne og lukke sager",
        "Fælles kriterier for, hvornår en sag åbnes og lukkes, og en fast overdragelse til almenområdet ved lukning.",
    ),
    (
        "Dialog og sparring med almenområdet",
        "Skoler og daginstitutioner får en fast indgang til anonym sparring, før en bekymring bliver til en underretning.",
    ),
)

DEMO_COMMENTS: tuple[tuple[int, str, str], ...] = (
    (
        0,
        "Godt forslag. Skabelonen skal være kort, ellers bliver den ikke brugt i modtagelsen.",
        "Modtageteamet",
    ),
    (
        2,
        "Vi mangler tid til børnesamtaler i de største sager – det bør stå, hvordan det prioriteres.",
        "Rådgiver, anbringelsesteamet",
    ),
    (
        8,
        "Lukning af sager kræver, at skolen ved, hvem de kan ringe til bagefter.",
        "",
    ),
)
