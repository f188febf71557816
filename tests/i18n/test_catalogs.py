"""The catalogs are complete, up to date, and their placeholders line up.

When one of these fails after you added or changed a text, run

    .venv/bin/python -m server.i18n_tools update

and translate what it lists in locales/da/LC_MESSAGES/messages.po.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from babel.messages.catalog import Catalog, Message

from server import i18n_tools
from server.i18n import LANGUAGES, translations
from server.web.templating import environment

UPDATE = "run `.venv/bin/python -m server.i18n_tools update`, then translate in "
DA_PO = "locales/da/LC_MESSAGES/messages.po"

# Newstyle gettext in Jinja2 always applies `%` to a translation, even without
# arguments, so a lone % breaks rendering: only %(name)s-style fields and %%.
FIELD = re.compile(r"%(?:%|\((?P<name>\w+)\)[#0 +\-]*\d*(?:\.\d+)?(?P<conv>[diouxXeEfFgGcrsa])?)")


def strings(message: Message) -> list[str]:
    value = message.string
    return [value] if isinstance(value, str) else list(value or ())


def ids(message: Message) -> list[str]:
    return [message.id] if isinstance(message.id, str) else list(message.id)


def live(catalog: Catalog) -> Iterator[Message]:
    return (m for m in catalog if m.id)


def fields(text: str) -> tuple[set[str], list[str]]:
    """The named fields of a format string, and what in it is not a valid field."""
    names: set[str] = set()
    bad: list[str] = []
    at = text.find("%")
    while at != -1:
        field = FIELD.match(text, at)
        if field is None or (field.group(0) != "%%" and field.group("conv") is None):
            bad.append(text[at : at + 6])
            at = text.find("%", at + 1)
            continue
        if field.group("name"):
            names.add(field.group("name"))
        at = text.find("%", field.end())
    return names, bad


def test_every_language_has_a_catalog() -> None:
    for lang in LANGUAGES:
        assert i18n_tools.catalog_path(lang).exists(), f"{lang}: {UPDATE}"


def test_danish_translates_every_msgid(pot: Catalog, catalogs: dict[str, Catalog]) -> None:
    da = catalogs["da"]
    absent = [m.id for m in live(pot) if da.get(m.id, m.context) is None]
    assert not absent, f"not in {DA_PO} ({UPDATE}{DA_PO}): {absent}"
    untranslated = i18n_tools.untranslated(da)
    assert not untranslated, f"empty or fuzzy msgstr in {DA_PO}: {untranslated}"


def test_english_catalog_is_complete(pot: Catalog, catalogs: dict[str, Catalog]) -> None:
    en = catalogs["en"]
    absent = [m.id for m in live(pot) if en.get(m.id, m.context) is None]
    assert not absent, f"not in the English catalog ({UPDATE}it): {absent}"
    assert not i18n_tools.untranslated(en)
    # The msgids are English: the English text is the msgid itself.
    assert [m.id for m in live(en) if strings(m)[0] != ids(m)[0]] == []


@pytest.mark.parametrize("name", ["pot", *LANGUAGES])
def test_catalogs_hold_every_msgid_in_the_sources(
    name: str, extracted: Catalog, pot: Catalog, catalogs: dict[str, Catalog]
) -> None:
    catalog = pot if name == "pot" else catalogs[name]
    absent = i18n_tools.missing(extracted, catalog)
    assert not absent, f"new texts not in the {name} catalog ({UPDATE}{DA_PO}): {absent}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_placeholders_match(lang: str, catalogs: dict[str, Catalog]) -> None:
    wrong = []
    for message in live(catalogs[lang]):
        if message.fuzzy:
            continue  # not used; test_danish_translates_every_msgid lists it
        plural = not isinstance(message.id, str)
        # A plural message's fields are its plural msgid's; the count (num) may be
        # left out where a form says it in words ("Every week" / "Every %(num)d weeks").
        wanted, bad_id = fields(ids(message)[-1])
        for other in ids(message)[:-1]:
            got, bad = fields(other)
            bad_id += bad
            if not got <= wanted or wanted - got - {"num"}:
                wrong.append(f"{message.id!r}: the msgids' fields differ")
        if bad_id:
            wrong.append(f"msgid {message.id!r}: use %(name)s fields and %% ({bad_id})")
        for text in strings(message):
            got, bad = fields(text)
            if bad:
                wrong.append(f"msgstr {text!r}: use %(name)s fields and %% ({bad})")
            missing = wanted - got - ({"num"} if plural else set())
            if text and (missing or not got <= wanted):
                wrong.append(f"{message.id!r}: msgstr has {sorted(got)}, msgid {sorted(wanted)}")
    assert not wrong, "\n".join(wrong)


def test_fields_checker() -> None:
    assert fields("Step %(n)s of %(total)s") == ({"n", "total"}, [])
    assert fields("100%% sure") == (set(), [])
    assert fields("50% done")[1]
    assert fields("Hello %s")[1]
    assert fields("broken %(n)")[1]


def test_danish_reaches_the_screens() -> None:
    assert translations("da").gettext("Next step") == "Næste punkt"
    env = environment("da")
    html = env.from_string('{{ _("Participant %(n)s", n=3) }} · {{ _(reason) }}').render(
        reason="Only the facilitator can do that."
    )
    assert html == "Deltager 3 · Det kan kun facilitator gøre."
    assert environment("en").from_string('{{ _("Next step") }}').render() == "Next step"
