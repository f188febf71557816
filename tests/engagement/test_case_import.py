"""The case register's import: spreadsheets as municipalities export them, row by row."""

from __future__ import annotations

import pytest

from server.engagement import demo_data
from server.engagement.cases import canonical_label, import_cases, normalise_tags, parse
from server.engagement.store import cases_of
from server.privacy.cpr import find_cpr
from server.store.repo import Repo
from server.store.tables import Engagement


def texts(messages: list) -> list[str]:  # type: ignore[type-arg]
    return [m.render("en") for m in messages]


def test_a_50_case_register_with_danish_headers_and_semicolons() -> None:
    result = parse(demo_data.register_csv(50).encode("utf-8"))
    assert result.ok, texts(result.errors)
    assert [c.label for c in result.cases] == [f"Sag {n}" for n in range(1, 51)]
    first = result.cases[0]
    assert 10 <= len(first.cover.split("\n")) <= 12
    assert first.learning_question.endswith("?")
    assert "De tidlige sagsforløb" in first.tags


@pytest.mark.parametrize("delimiter", [";", ",", "\t"])
def test_any_common_delimiter(delimiter: str) -> None:
    text = delimiter.join(["Sag", "Forklæde", "Læringsspørgsmål"]) + "\n"
    text += delimiter.join(["Sag 4", '"Udvalgt, fordi noget"', "Hvorfor?"]) + "\n"
    result = parse(text)
    assert result.ok, texts(result.errors)
    assert result.cases[0].cover == "Udvalgt, fordi noget"


def test_windows_1252_from_excel_is_read_with_a_note() -> None:
    data = "Sag;Forklæde;Resumé\nSag 1;Barnet går i børnehave;Kort forløb\n".encode("cp1252")
    result = parse(data)
    assert result.ok
    assert result.cases[0].cover == "Barnet går i børnehave"
    assert "Windows-1252" in texts(result.notes)[0]


def test_header_spellings_and_unknown_columns() -> None:
    text = "Sagsnr;FORKLAEDE;Sags-resumé;Læringsspørgsmål;Barnets navn\n17;a;b;c;Hemmelig\n"
    result = parse(text)
    assert result.ok
    case = result.cases[0]
    assert (case.label, case.cover, case.summary, case.learning_question) == (
        "Sag 17",
        "a",
        "b",
        "c",
    )
    assert texts(result.notes) == ["The column “Barnets navn” was not imported."]
    assert "Hemmelig" not in repr(result.cases)


def test_labels_become_pseudonyms_or_are_refused() -> None:
    assert canonical_label("17") == "Sag 17"
    assert canonical_label("  sag   4b ") == "Sag 4b"
    assert canonical_label("case 3") == "Case 3"
    result = parse("Sag;Forklæde\nJens Hansen;a\n010203-1234;b\nSag 0101901234;c\n;d\n")
    errors = texts(result.errors)
    assert len(errors) == 4
    assert errors[0] == (
        "Row 2: “Jens Hansen” is not a pseudonym such as “Sag 17”: never use names or CPR numbers."
    )
    assert "010203-1234" not in " ".join(errors)  # a CPR number is not repeated back
    assert errors[3] == "Row 5: the case has no label (such as “Sag 17”)."


def test_cpr_numbers_in_any_text_field_are_masked_with_a_note_per_row() -> None:
    text = (
        "Sag;Forklæde;Resumé;Læringsspørgsmål;Fokuspunkter\n"
        "Sag 1;Ren tekst;Intet;Hvad?;x\n"
        "Sag 2;Barn 010203 1234 her;Mor 121285-4321;Far 2512761234?;y\n"
    )
    result = parse(text)
    assert result.ok
    second = result.cases[1]
    for value in (second.cover, second.summary, second.learning_question):
        assert not find_cpr(value) and "[CPR fjernet]" in value
    assert texts(result.notes) == [
        "Row 3 (Sag 2): 3 CPR numbers masked in Cover, Summary, Learning question."
    ]


def test_duplicates_in_the_file_name_both_rows() -> None:
    result = parse("Sag;Forklæde\nSag 1;a\nSag 2;b\nsag 1;c\n")
    assert texts(result.errors) == [
        "Row 4: Sag 1 is also in row 2; every case needs its own label."
    ]


def test_the_rows_problems_are_all_listed() -> None:
    text = (
        "Sag;Forklæde;Udvalgt;Begrundelse\n"
        "Sag 1;a;ja;\n"
        "Sag 2;b;måske;\n"
        "Sag 3;c;nej;;ekstra\n"
        "Sag 4;" + "x" * 4001 + ";;\n"
    )
    errors = texts(parse(text).errors)
    assert errors == [
        "Row 2: Sag 1 is selected, but the reason for selecting it is missing.",
        "Row 3: “Udvalgt” must be “ja” or “nej”.",
        "Row 4: it has more cells than the file has columns (is there a semicolon in a text without quotation marks?).",
        "Row 5: Cover is too long (at most 4000 characters).",
    ]


def test_files_that_cannot_be_a_register() -> None:
    assert texts(parse(b"").errors) == ["The file is empty."]
    assert "no column for the case's label" in texts(parse("Navn;Tekst\na;b\n").errors)[0]
    assert texts(parse("Sag;Forklæde\n").errors) == ["The file has no cases below its header row."]
    assert texts(parse("Sag;Sagsnr\n1;2\n").errors) == ["Two columns mean Case; keep one of them."]
    assert "too large" in texts(parse(b"x" * (2 * 1024 * 1024 + 1)).errors)[0]


def test_tags_are_normalised() -> None:
    assert normalise_tags("a, b;c\n a ;") == "a; b; c"


async def test_an_import_is_all_or_nothing_and_refuses_labels_already_there(
    repo: Repo, eng: Engagement
) -> None:
    ok = await import_cases(repo, eng.id, "Sag;Forklæde\nSag 1;a\nSag 2;b\n")
    assert ok.imported == 2
    again = await import_cases(repo, eng.id, "Sag;Forklæde\nSag 3;c\nSag 2;b igen\n")
    assert texts(again.errors) == ["Row 3: Sag 2 is already in the register."]
    assert [c.label for c in await cases_of(repo, eng.id)] == ["Sag 1", "Sag 2"]
    more = await import_cases(repo, eng.id, "Sag;Forklæde\nSag 3;c\n")
    assert more.imported == 1
    assert [(c.label, c.position) for c in await cases_of(repo, eng.id)] == [
        ("Sag 1", 1),
        ("Sag 2", 2),
        ("Sag 3", 3),
    ]
