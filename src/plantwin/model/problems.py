"""Problems found in a plant file, each with the file, line and path it belongs to."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from plantwin.core.errors import PlantModelError

Path = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Problem:
    path: Path
    message: str
    line: int | None = None  # 1-based

    def dotted(self) -> str:
        return ".".join(str(p) for p in self.path) or "(file)"

    def render(self, filename: str) -> str:
        where = filename if self.line is None else f"{filename}:{self.line}"
        return f"{where} {self.dotted()}: {self.message}"


class PlantFileError(PlantModelError):
    """Every problem found in one plant file; ``str()`` gives one line per problem."""

    def __init__(self, filename: str, problems: Sequence[Problem]) -> None:
        self.filename = filename
        self.problems = tuple(problems)
        lines = [p.render(filename) for p in self.problems]
        super().__init__(f"{len(lines)} problem(s) in {filename}:\n" + "\n".join(lines))


class ProblemLog:
    """Collects problems while a file is checked, so that all are reported at once."""

    def __init__(self, lines: Mapping[Path, int]) -> None:
        self._lines = lines
        self.problems: list[Problem] = []
        self._seen: set[Problem] = set()

    def add(self, path: Path, message: str) -> None:
        problem = Problem(path, message, self.line_of(path))
        if problem not in self._seen:  # a type's mistake is reported once, not per instance
            self._seen.add(problem)
            self.problems.append(problem)

    def line_of(self, path: Path) -> int | None:
        for end in range(len(path), -1, -1):
            line = self._lines.get(path[:end])
            if line is not None:
                return line
        return None

    def __bool__(self) -> bool:
        return bool(self.problems)

    def sorted(self) -> list[Problem]:
        return sorted(self.problems, key=lambda p: (p.line or 0, p.dotted()))
