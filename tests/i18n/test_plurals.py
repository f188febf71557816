"""Where a count meets a noun, the language's plural rule picks the form: Danish
'1 kommentar' / '2 kommentarer' (nplurals=2; plural=(n != 1)), English '1 comment'
/ '2 comments'. Every plural message in the sources is rendered for 0, 1 and 2 in
both languages, as a template renders it (ngettext) and as the engagement's
messages do (msg_n); and the places the issue named read right.
"""

from __future__ import annotations

import re

import pytest
from babel.messages.catalog import Catalog, Message

from server.engagement.common import msg_n
from server.i18n import translations
from server.web.templating import environment

COUNTS = (0, 1, 2)
FIELD = re.compile(r"%\((\w+)\)[#0 +\-]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")


def plural_messages(extracted: Catalog) -> list[Message]:
    return [m for m in extracted if m.id and not isinstance(m.id, str)]


def fill(text: str) -> dict[str, object]:
    """A value for every field but the count."""
    return {name: f"<{name}>" for name in FIELD.findall(text) if name != "num"}


def test_plural_messages_are_extracted_with_their_plural(extracted: Catalog) -> None:
    found = {m.id[0] for m in plural_messages(extracted)}
    for singular in (
        "%(num)d comment",  # '1 kommentarer' on the engagement's session page
        "%(num)d comment so far",
        "%(num)d decision",  # '1 beslutninger · 1 opgaver' on the timeline
        "%(num)d action",
        "%(num)d case, %(m)s selected for the full-day meeting.",
        "%(num)d case was imported.",  # the engagement's messages (msg_n)
        "Engagements with no activity for %(num)d day are deleted by %(command)s (%(setting)s).",
    ):
        assert singular in found, singular


@pytest.mark.parametrize("lang", ["da", "en"])
def test_every_plural_message_takes_its_form_from_the_count(
    lang: str, extracted: Catalog, catalogs: dict[str, Catalog]
) -> None:
    env = environment(lang)
    wrong = []
    for message in plural_messages(extracted):
        singular, plural = message.id[0], message.id[1]
        fields = fill(plural)
        entry = catalogs[lang].get(message.id, message.context)
        assert entry is not None, singular
        forms = list(entry.string)
        for n in COUNTS:
            want = (forms[0] if n == 1 else forms[1]) % {"num": n, **fields}
            shown = env.from_string("{{ ngettext(s, p, n, **fields) }}").render(
                s=singular, p=plural, n=n, fields=fields
            )
            # Autoescaped: the <field> placeholders come back as &lt;field&gt;.
            shown = shown.replace("&lt;", "<").replace("&gt;", ">")
            if shown != want:
                wrong.append(f"{lang} n={n}: {shown!r}, not {want!r}")
            if any(loc.endswith(".py") for loc, _ in message.locations):
                rendered = msg_n(singular, plural, n, **fields).render(lang)
                if rendered != want:
                    wrong.append(f"{lang} n={n} (msg_n): {rendered!r}, not {want!r}")
        if lang == "en":
            assert forms == [singular, plural]
    assert not wrong, "\n".join(wrong)


def test_english_says_one_thing_and_two_things(extracted: Catalog) -> None:
    """The English forms themselves: the singular msgid names one thing."""
    for message in plural_messages(extracted):
        singular, plural = message.id
        assert singular != plural, f"the same text for 1 and for more: {singular!r}"


@pytest.mark.parametrize(
    ("singular", "plural", "da", "en"),
    [
        (
            "%(num)d comment",
            "%(num)d comments",
            ["0 kommentarer", "1 kommentar", "2 kommentarer"],
            ["0 comments", "1 comment", "2 comments"],
        ),
        (
            "%(num)d decision",
            "%(num)d decisions",
            ["0 beslutninger", "1 beslutning", "2 beslutninger"],
            ["0 decisions", "1 decision", "2 decisions"],
        ),
        (
            "%(num)d action",
            "%(num)d actions",
            ["0 opgaver", "1 opgave", "2 opgaver"],
            ["0 actions", "1 action", "2 actions"],
        ),
        (
            "%(num)d comment so far",
            "%(num)d comments so far",
            ["0 kommentarer indtil nu", "1 kommentar indtil nu", "2 kommentarer indtil nu"],
            ["0 comments so far", "1 comment so far", "2 comments so far"],
        ),
        (
            "Every week",
            "Every %(num)d weeks",
            ["Hver 0. uge", "Hver uge", "Hver 2. uge"],
            ["Every 0 weeks", "Every week", "Every 2 weeks"],
        ),
    ],
)
def test_the_named_places_read_right(
    singular: str, plural: str, da: list[str], en: list[str]
) -> None:
    for lang, expected in (("da", da), ("en", en)):
        t = translations(lang)
        assert [t.ngettext(singular, plural, n) % {"num": n} for n in COUNTS] == expected


def test_the_engagements_messages_count_in_both_languages() -> None:
    one = msg_n("%(num)d case was imported.", "%(num)d cases were imported.", 1)
    two = msg_n("%(num)d case was imported.", "%(num)d cases were imported.", 2)
    assert one.render("da") == "1 sag blev importeret."
    assert two.render("da") == "2 sager blev importeret."
    assert one.render("en") == "1 case was imported."
    assert two.render("en") == "2 cases were imported."


def test_a_single_selected_case_is_udvalgt() -> None:
    assert translations("da").gettext("selected") == "udvalgt"


def test_the_retention_note_shows_the_command_as_code() -> None:
    source = (
        '{% set command %}<code>{{ "tovholder purge" }}</code>{% endset %}'
        '{% set setting %}<code>{{ "TOVHOLDER_RETENTION_DAYS" }}</code>{% endset %}'
        "{{ ngettext('Engagements with no activity for %(num)d day are deleted by %(command)s "
        "(%(setting)s).', 'Engagements with no activity for %(num)d days are deleted by "
        "%(command)s (%(setting)s).', n, command=command, setting=setting) }}"
    )
    for lang, n, text in (
        ("da", 1, "Forløb uden aktivitet i 1 dag slettes af"),
        ("da", 730, "Forløb uden aktivitet i 730 dage slettes af"),
        ("en", 1, "Engagements with no activity for 1 day are deleted by"),
    ):
        html = environment(lang).from_string(source).render(n=n)
        assert html.startswith(text), html
        assert "<code>tovholder purge</code>" in html and "`" not in html
