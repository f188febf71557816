"""Discussion: a timed conversation around the step's questions.

The general timer and cards (when the script opens them) are all it needs;
the module exists so that behaviour added later touches only this file.
"""

from __future__ import annotations

KIND = "discussion"
