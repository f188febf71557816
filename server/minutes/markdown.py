"""Minutes as Markdown (CommonMark + GitHub tables), deterministic.

User text is backslash-escaped so that ``<script>``, ``[links](...)``,
``**bold**`` and table pipes show as the literal characters in any Markdown
viewer, while the raw file stays readable.
"""

from __future__ import annotations

import re

from server.minutes.model import Minutes
from server.minutes.text import one_line
from server.minutes.view import MinutesView, PollView, build_view

# Characters that can start markup anywhere in a line.
_INLINE = re.compile(r"([\\`*_\[\]<>|~])")
# "&amp;" / "&#60;" would be decoded as entities; a lone "&" is harmless.
_ENTITY = re.compile(r"&(?=#?[A-Za-z0-9]+;)")
# Markup that only counts at the start of a block: headings, lists, quotes, rules.
_BLOCK_START = re.compile(r"^(\s*)([#>+=-]|\d+[.)])")


def escape_md(text: str | None) -> str:
    """One line of literal text, safe inside a paragraph, list item or table cell."""
    line = one_line(text)
    line = _INLINE.sub(r"\\\1", line)
    line = _ENTITY.sub(r"\\&", line)
    return _BLOCK_START.sub(lambda m: m.group(1) + _escape_block(m.group(2)), line)


def _escape_block(marker: str) -> str:
    if marker[-1] in ".)":
        return marker[:-1] + "\\" + marker[-1]
    return "\\" + marker


def _table(head: list[str], rows: list[list[str]], align: str) -> list[str]:
    """``align`` has one letter per column: l or r."""
    rule = ["---:" if a == "r" else "---" for a in align]
    lines = ["| " + " | ".join(head) + " |", "| " + " | ".join(rule) + " |"]
    lines += ["| " + " | ".join(cell or " " for cell in row) + " |" for row in rows]
    return lines


def _poll(view: MinutesView, poll: PollView) -> list[str]:
    lab = view.labels
    out = [f"### {poll.no}. {escape_md(poll.question)}", "", escape_md(poll.info), ""]
    if poll.results:
        out += _table(
            [lab.rank, lab.option, poll.value_head],
            [[r.rank, escape_md(r.label), r.value] for r in poll.results],
            "rlr",
        )
        out.append("")
    else:
        out += [lab.no_votes, ""]
    if poll.voters:
        out += [f"**{lab.votes_by_name}**", ""]
        out += _table(
            [lab.voter, lab.choice],
            [[escape_md(voter), escape_md(choice)] for voter, choice in poll.voters],
            "ll",
        )
        out.append("")
    return out


def render_markdown(minutes: Minutes) -> str:
    view = build_view(minutes)
    lab = view.labels
    out = [f"# {escape_md(view.title)}", "", f"*{escape_md(view.kicker)}*", ""]
    if view.is_draft:
        out += [f"> **{lab.draft}:** {escape_md(lab.draft_notice)}", ""]
    if view.meta:
        out += [f"- **{label}:** {escape_md(value)}" for label, value in view.meta]
        out.append("")

    if view.learning_question:
        out += [f"## {lab.learning_question}", "", escape_md(view.learning_question), ""]
    if view.participants:
        out += [f"## {lab.participants}", ""]
        out += [f"- {escape_md(p)}" for p in view.participants]
        out.append("")

    out += [f"## {lab.decisions}", ""]
    if view.decisions:
        rows = [
            [
                str(d.no),
                escape_md(d.text) + (f" *({lab.edited})*" if d.edited else ""),
                escape_md(d.decided_by),
                escape_md(d.step),
            ]
            for d in view.decisions
        ]
        out += _table([lab.no, lab.decision, lab.decided_by, lab.step], rows, "rlll")
    else:
        out.append(lab.no_decisions)
    out.append("")

    out += [f"## {lab.actions}", ""]
    if view.actions:
        rows = [[str(a.no), escape_md(a.what), escape_md(a.who), a.due] for a in view.actions]
        out += _table([lab.no, lab.action, lab.who, lab.due], rows, "rlll")
    else:
        out.append(lab.no_actions)
    out.append("")

    if view.next_meeting:
        nm = view.next_meeting
        out += [f"## {lab.next_meeting}", "", f"- **{lab.date}:** {escape_md(nm.when)}"]
        if nm.place:
            out.append(f"- **{lab.place}:** {escape_md(nm.place)}")
        out.append("")
        if nm.goals:
            out += [f"**{lab.goals}:**", ""]
            out += [f"1. {escape_md(goal)}" for goal in nm.goals]
            out.append("")

    if view.polls:
        out += [f"## {lab.polls}", ""]
        for poll in view.polls:
            out += _poll(view, poll)

    if view.agenda:
        out += [f"## {lab.agenda}", ""]
        rows = [[str(a.no), escape_md(a.title), a.start, a.duration] for a in view.agenda]
        out += _table([lab.no, lab.step, lab.start, lab.duration], rows, "rlll")
        out.append("")

    if view.step_contents:
        out += [f"## {lab.step_contents}", ""]
        for step in view.step_contents:
            out += [f"### {step.no}. {escape_md(step.title)}", ""]
            for cluster in step.clusters:
                if cluster.title:
                    out += [f"#### {escape_md(cluster.title)}", ""]
                out += [f"- {escape_md(card)}" for card in cluster.cards]
                out.append("")

    while out and out[-1] == "":
        out.pop()
    return "\n".join(out) + "\n"
