"""Break: a pause with a timer on the wall. (`break` is a Python keyword, hence the name.)"""

from __future__ import annotations

KIND = "break"
