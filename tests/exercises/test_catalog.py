"""The exercises themselves: tinymed's own solution of every exercise gets full marks; the file a
student starts from scores nothing and gives no solution away; every known mistake can be told apart
from the right answer."""

import inspect
import textwrap
import types

import numpy as np
import pytest

from tinymed.exercises import EXERCISES, grade, solution_source, student_source
from tinymed.exercises.compare import StudentError, call, close

NAMES = list(EXERCISES)


def module_from(source, name="submission"):
    module = types.ModuleType(name)
    exec(compile(source, f"{name}.py", "exec"), module.__dict__)
    return module


def test_there_are_at_least_twelve_exercises_and_every_task_has_the_signature_it_shows():
    assert len(EXERCISES) >= 12
    for exercise in EXERCISES.values():
        for task in exercise.tasks:
            assert tuple(inspect.signature(task.reference).parameters) == task.params, task.name
            assert task.doc and exercise.formula and exercise.lesson.startswith("lesson ")


@pytest.mark.parametrize("name", NAMES)
def test_the_solution_file_which_is_tinymeds_own_code_gets_full_marks(name):
    exercise = EXERCISES[name]
    source = solution_source(exercise)
    assert "from tinymed" in source  # the library's code, imported
    result = grade(exercise, module_from(source))
    assert result.passed and result.score == result.max_score > 0, str(result)


@pytest.mark.parametrize("name", NAMES)
def test_the_student_file_scores_nothing_and_holds_no_solution(name):
    exercise = EXERCISES[name]
    source = student_source(exercise)
    for task in exercise.tasks:
        body = textwrap.dedent(inspect.getsource(task.reference)).splitlines()[1:]
        leaked = [line for line in body if line.strip() and line.strip() in source]
        assert not leaked, f"{task.name}: the student's file holds the solution's lines {leaked}"
        assert f"def {task.name}({', '.join(task.params)}):" in source and "TODO" in source
    assert f'EXERCISE = "{name}"' in source and exercise.formula in source
    result = grade(exercise, module_from(source))
    assert result.score == 0
    assert all("not written yet" in p.output for p in result.parts)


@pytest.mark.parametrize("name", NAMES)
def test_every_known_mistake_differs_from_the_answer_somewhere_it_is_graded(name):
    for task in EXERCISES[name].tasks:
        inputs = list(task.examples()) + [edge.args() for edge in task.edge_cases]
        for mistake in task.mistakes:
            differs = False
            for args in inputs:
                expected = call(task.reference, args, task.outputs)
                try:
                    wrong = call(mistake.variant, args, task.outputs)
                except StudentError:
                    continue
                differs |= not all(close(w, e, task.tolerance) for w, e in zip(wrong, expected))
            assert differs, f"{task.name}: the mistake {mistake.name!r} never changes the answer"


def test_grading_some_functions_only():
    exercise = EXERCISES["activations"]
    result = grade(exercise, {"relu_backward": lambda dy, x: dy * (x > 0)}, only=["relu_backward"])
    assert result.passed and {p.name.split(":")[0] for p in result.parts} == {"relu_backward"}
    with pytest.raises(ValueError, match="no function"):
        grade(exercise, {}, only=["softplus_backward"])


def test_a_function_missing_from_the_file_is_said_to_be():
    result = grade("linear_backward", {"linear_forward": np.dot})
    assert result.score == 0 and all("not defined" in p.output for p in result.parts)
