"""A graded submission: the score of every part, the text a student reads, and Gradescope's
``results.json``.

Gradescope's autograder format (which Otter and most course platforms read) is a JSON object with
``score``, ``execution_time``, ``output`` and ``tests``: one entry per part, each with ``name``,
``score``, ``max_score``, ``status`` (``"passed"`` or ``"failed"``), ``output`` and ``visibility``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class PartResult:
    """One graded part: its ``name``, points, what the student reads (``output``) and the keys of
    the mistakes diagnosed (``mistakes``, e.g. ``["transposed"]``)."""

    name: str
    score: float
    max_score: float
    output: str = ""
    mistakes: list = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.score >= self.max_score

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Result:
    """Every part of one exercise (or of several, see :func:`merge`), and a message about the whole
    submission (``output``: a file that would not import, say)."""

    exercise: str
    title: str
    parts: list
    output: str = ""
    execution_time: float = 0.0

    @property
    def score(self) -> float:
        return sum(p.score for p in self.parts)

    @property
    def max_score(self) -> float:
        return sum(p.max_score for p in self.parts)

    @property
    def passed(self) -> bool:
        return all(p.passed for p in self.parts)

    def __str__(self):
        lines = [f"exercise {self.exercise}: {self.title}"]
        if self.output:
            lines.append("  " + self.output.replace("\n", "\n  "))
        for p in self.parts:
            lines.append(f"  [{'PASS' if p.passed else 'FAIL'}] {p.score:g}/{p.max_score:g}  {p.name}")
            if p.output and not p.passed:
                lines.append("         " + p.output.replace("\n", "\n         "))
        lines.append(f"score: {self.score:g}/{self.max_score:g}"
                     + ("  (full marks)" if self.passed else "")
                     + f"  [{self.execution_time:.1f} s]")
        return "\n".join(lines)

    def to_gradescope(self) -> dict:
        """The submission as Gradescope's ``results.json``."""
        summary = f"{self.exercise}: {self.score:g}/{self.max_score:g}"
        return {
            "score": float(self.score),
            "execution_time": round(self.execution_time),
            "output": summary + (f"\n{self.output}" if self.output else ""),
            "visibility": "visible",
            "tests": [
                {"name": p.name, "score": float(p.score), "max_score": float(p.max_score),
                 "status": "passed" if p.passed else "failed", "output": p.output, "visibility": "visible"}
                for p in self.parts
            ],
        }


def merge(results) -> Result:
    """Several exercises graded together (one homework) as one :class:`Result`."""
    results = list(results)
    return Result(
        exercise=", ".join(r.exercise for r in results),
        title=f"{len(results)} exercises",
        parts=[p for r in results for p in r.parts],
        output="\n".join(f"{r.exercise}: {r.output}" for r in results if r.output),
        execution_time=sum(r.execution_time for r in results),
    )
