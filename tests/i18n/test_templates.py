"""Every text a person reads in a template goes through _().

Flags text between tags and readable attributes (placeholder, aria-label, alt,
title, data-confirm, ...) that hold letters outside {{ }} — apart from the brand
"Tovholder"; symbols such as ← → ✕ · + − # need no translation — and variables
that hold an English msgid or an internal name shown as they are ({{ error }},
{{ step.kind }}). templates/minutes/ is skipped: the minutes have their own labels.
"""

from __future__ import annotations

import pytest

from server import i18n_tools
from server.i18n_tools import scan_template


def whats(source: str) -> list[str]:
    return [u.what for u in scan_template(source)]


def test_templates_mark_every_text() -> None:
    files = i18n_tools.template_files()
    assert "templates/base.html" in files
    assert not any(f.startswith("templates/minutes/") for f in files)
    found = i18n_tools.unmarked_template_text()
    assert not found, "wrap these in {{ _(...) }}:\n" + "\n".join(map(str, found))


@pytest.mark.parametrize(
    "source",
    [
        '<h1>{{ _("Welcome") }}</h1>',
        "<h1 class='brand-big'>Tovholder</h1>",
        '<button>← {{ _("Previous") }}</button> <button>{{ _("Next") }} →</button>',
        "<button aria-label=\"{{ _('Remove card') }}\">✕</button> · +1 −1 <th>#</th>",
        '<input placeholder="{{ _(\'Who?\') }}" value="{{ code }}" name="code">',
        '<p>{{ step.title }}</p><p>{{ _(error) }}</p><p>{{ kinds.get(step.kind, "") }}</p>',
        "{% trans n=3 %}You have {{ n }} cards{% endtrans %}",
        "{# a comment with words #}<!-- an html comment -->",
        '<script>const words = "left alone";</script><style>p::after{content:"x"}</style>',
        '<div hx-vals=\'{"type": "next_step"}\' class="btn {% if x %}is-on{% endif %}"></div>',
        "<p>{% if x %}{{ _('Yes') }}{% else %}{{ _('No') }}{% endif %}</p>",
    ],
)
def test_marked_text_passes(source: str) -> None:
    assert whats(source) == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("<p>Hello</p>", "text 'Hello'"),
        ("<p>{% if x %}Welcome back{% endif %}</p>", "text 'Welcome back'"),
        ('<p>{{ _("Code") }}: Kode</p>', "text '{{ … }}: Kode'"),
        ('<input placeholder="Your name">', "<input placeholder=…>: "),
        ('<button aria-label="Close">✕</button>', "<button aria-label=…>: 'Close'"),
        ('<img src="x.svg" alt="QR code">', "<img alt=…>: 'QR code'"),
        ('<a title="Open {{ x }}">', "<a title=…>: 'Open {{ … }}'"),
        ('<input type="submit" value="Send">', "<input value=…>: 'Send'"),
        ("<p>{{ error }}</p>", "text {{ error }} is shown as it is"),
        ('<p class="kind">{{ step.kind }}</p>', "text {{ step.kind }} is shown as it is"),
    ],
)
def test_unmarked_text_is_flagged(source: str, expected: str) -> None:
    found = whats(source)
    assert len(found) == 1 and found[0].startswith(expected), found


def test_lines_point_at_the_text() -> None:
    source = '{% if a %}\n<p>{{ _("Fine") }}</p>\n{% endif %}\n<p>\n  {{ x }}\n  Stray words</p>\n'
    [found] = scan_template(source, "t.html")
    assert (found.path, found.line) == ("t.html", 6)


def test_child_templates_count_blocks_where_the_parent_shows_them() -> None:
    parent = '<title>{% block title %}Tovholder{% endblock %}</title><body class="{% block body_class %}{% endblock %}">{% block body %}{% endblock %}</body>'
    sources = {"base.html": parent}
    child = (
        '{% extends "base.html" %}\n'
        "text outside blocks is never shown\n"
        "{% block body_class %}screen-plain{% endblock %}\n"
        "{% block title %}Log in · Tovholder{% endblock %}\n"
        "{% block body %}<p>{{ _('Fine') }}</p>{% endblock %}\n"
    )
    found = scan_template(child, "child.html", sources.__getitem__)
    assert [(f.line, f.what) for f in found] == [
        (4, "text 'Log in · Tovholder' is not wrapped in _()")
    ]
