"""The shipped facilitation scripts, loaded once and looked up by id."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from server.scripts.loader import ScriptError, load_script
from server.scripts.schema import Script

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Catalog:
    scripts: dict[str, Script]

    @classmethod
    def load(cls, folder: Path) -> Catalog:
        scripts: dict[str, Script] = {}
        for path in sorted(folder.glob("*.yaml")):
            try:
                script = load_script(path)
            except ScriptError as exc:
                for problem in exc.problems:
                    log.error("%s", problem)
                continue
            scripts[script.id] = script
        return cls(scripts)

    def get(self, script_id: str) -> Script | None:
        return self.scripts.get(script_id)

    def variant(self, script: Script, lang: str) -> Script | None:
        """The same script in another language, if shipped: 'kvifa' <-> 'kvifa-en'.

        A translation has the original's id with '-<language>' added and the
        same session type; the original is found from a translation likewise.
        """
        if script.language == lang:
            return script
        base = script.id.removesuffix(f"-{script.language}")
        for candidate in (base, f"{base}-{lang}"):
            found = self.scripts.get(candidate)
            if (
                found is not None
                and found.language == lang
                and found.session_type == script.session_type
            ):
                return found
        return None

    def by_language(self, lang: str) -> list[Script]:
        return sorted(
            (s for s in self.scripts.values() if s.language == lang),
            key=lambda s: s.title,
        )
