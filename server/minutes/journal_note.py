"""The Kvifa journal note: short, copy-ready text for the child's case file.

It carries the date, the participants' roles (never their names), the
pseudonymised case label, the learning question, the decision(s) and the
agreed actions. Participant names that appear inside free text (a decision
saying "Mette kontakter skolen", an action owner) are replaced by that
person's role, and CPR numbers are masked (:mod:`server.privacy.cpr`).

What it cannot do: recognise the child's or a parent's name typed into a
decision. The case label is the only identifier the note is meant to carry.
"""

from __future__ import annotations

import re
from collections import Counter

from server.minutes import fmt
from server.minutes.labels import Labels, labels_for, session_type_label
from server.minutes.model import Minutes, Participant
from server.minutes.text import clean, one_line
from server.privacy.cpr import mask_cpr


class _Redactor:
    """Replaces participant names (full names and single name parts) by roles.

    A genitive ending stays: "Åse Kjærgaards forslag" becomes "Rådgivers forslag".
    """

    def __init__(self, participants: tuple[Participant, ...], labels: Labels) -> None:
        replacements: dict[str, str] = {}
        for p in participants:
            name = one_line(p.name)
            if not name:
                continue
            role = one_line(p.role) or labels.name_removed
            for key in {name, *(part for part in re.split(r"[\s.]+", name) if len(part) > 1)}:
                previous = replacements.get(key)
                replacements[key] = role if previous in (None, role) else labels.name_removed
        self._exact = {k.casefold(): v for k, v in replacements.items()}
        keys = sorted(replacements, key=len, reverse=True)
        self._replacements = replacements
        self._pattern = (
            re.compile(r"(?<!\w)(" + "|".join(re.escape(k) for k in keys) + r")('?s|')?(?!\w)")
            if keys
            else None
        )

    def __call__(self, text: str | None) -> str:
        result = mask_cpr(clean(text))
        if self._pattern is not None:
            result = self._pattern.sub(
                lambda m: self._replacements[m.group(1)] + (m.group(2) or ""), result
            )
        return result.strip()

    def owner(self, who: str | None) -> str:
        """An action owner who is a participant becomes that participant's role."""
        exact = self._exact.get(one_line(who).casefold())
        return exact if exact is not None else one_line(self(who))


def _roles(participants: tuple[Participant, ...]) -> str:
    counts = Counter(one_line(p.role) for p in participants if one_line(p.role))
    return ", ".join(f"{role} ({n})" if n > 1 else role for role, n in counts.items())


def render_journal_note(minutes: Minutes) -> str:
    lab = labels_for(minutes.language)
    redact = _Redactor(minutes.participants, lab)
    day = minutes.meeting_date
    kind = session_type_label(lab, minutes.session_type)

    lines = [f"{lab.journal_note}: {kind}"]
    if day is not None:
        lines.append(f"{lab.date}: {fmt.long_date(day, minutes.language)}")
    if minutes.case_label:
        lines.append(f"{lab.case}: {redact(minutes.case_label)}")
    roles = _roles(minutes.participants)
    if roles:
        lines.append(f"{lab.participant_roles}: {roles}")

    if minutes.learning_question:
        lines += ["", f"{lab.learning_question}:", redact(minutes.learning_question)]

    lines += ["", f"{lab.decisions if len(minutes.decisions) > 1 else lab.decision}:"]
    if not minutes.decisions:
        lines.append(lab.no_decisions)
    for no, decision in enumerate(minutes.decisions, start=1):
        text = redact(decision.text)
        lines.append(f"{no}. {text}" if len(minutes.decisions) > 1 else text)

    if minutes.actions:
        lines += ["", f"{lab.agreed_actions}:"]
        for action in minutes.actions:
            details = []
            owner = redact.owner(action.who)
            if owner:
                details.append(f"{lab.who.lower()}: {owner}")
            if action.due:
                details.append(f"{lab.due.lower()}: {fmt.short_date(action.due, minutes.language)}")
            suffix = f" ({', '.join(details)})" if details else ""
            lines.append(f"- {one_line(redact(action.what))}{suffix}")
    return "\n".join(lines) + "\n"
