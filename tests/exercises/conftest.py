"""What the exercise tests share: grading a deliberately wrong solution (a mutant) of one function and
checking that it loses marks, with the right diagnosis."""

import pytest

from tinymed.exercises import get, grade


def reference_namespace(exercise):
    """Every function of ``exercise`` as tinymed's reference writes it."""
    return {t.name: t.reference for t in exercise.tasks}


@pytest.fixture
def assert_diagnosed():
    def check(exercise_name, function, mutant, mistake):
        exercise = get(exercise_name)
        result = grade(exercise, {**reference_namespace(exercise), function: mutant}, only=[function])
        report = str(result)
        assert result.score < result.max_score, report
        lost = [p for p in result.parts if not p.passed]
        found = {m for p in lost for m in p.mistakes}
        assert mistake in found, f"expected the diagnosis {mistake!r}, got {sorted(found)}\n{report}"
        assert "diagnosis:" in report
        return result
    return check
