"""Consultation (høring): written comments over days, outside the live meeting.

Comments arrive by link and access code and are kept by the engagement's
store; a live session only shows that the consultation is running and when
it closes.
"""

from __future__ import annotations

from server.scripts.schema import ConsultationStep

KIND = "consultation"
DAY = 24 * 60 * 60


def closes_at(step: ConsultationStep, opened_at: float) -> float:
    """When a consultation opened at `opened_at` (seconds) stops taking comments."""
    return opened_at + step.window_days * DAY
