"""The verdicts an engine remembers: the same answers to the same case get the same verdict
without being judged again; another case, another value, type, dtype or sign, or a kind whose
verdict may vary is judged; what the kept verdicts hold is bounded; and a student whose answers
were judged before still gets their own printed output and the same result as if judged anew."""
from types import SimpleNamespace

import numpy as np

from grader.engine import Engine
from grader.kinds import kind_of
from grader.kinds.base import Answer, Kind, Verdict
from grader.kinds.verdicts import ENTRY, Verdicts
from grader.results.stored import to_dict

from conftest import EXAMPLES

PROBLEM = SimpleNamespace(id="p", context="", tolerance_for=None)
CASE = SimpleNamespace(id="public-1", visibility="public")
OTHER_CASE = SimpleNamespace(id="hidden-1", visibility="hidden")


class Counting(Kind):
    """A kind that counts its verdicts; every answer is wrong, with a difference that keeps it."""
    name = "counting"

    def __init__(self, deterministic: bool = True):
        self.deterministic, self.calls = deterministic, 0

    def verdict(self, problem, case, values, expected, course):
        self.calls += 1
        return Verdict(f"wrong ({self.calls})", mismatch=SimpleNamespace(yours=values[0]))


def test_the_same_answers_to_the_same_case_are_judged_once():
    kind, verdicts = Counting(), Verdicts()
    first = verdicts.of(kind, PROBLEM, CASE, [np.arange(3.0)], None, None)
    again = verdicts.of(kind, PROBLEM, CASE, [np.arange(3.0)], None, None)
    assert again is first and kind.calls == 1
    assert (verdicts.hits, verdicts.misses) == (1, 1)


def test_answers_read_from_frames_are_recalled_by_the_frames_bytes(monkeypatch):
    """An answer read from a frame carries the digest of its bytes, which decode to the same
    value every time: equal digests recall the verdict without digesting the value again, and
    a frame of other bytes is judged, whatever value it holds."""
    import grader.kinds.verdicts as verdicts_module

    def unused(value):
        raise AssertionError("a value read from a frame is not digested")

    monkeypatch.setattr(verdicts_module, "fingerprint", unused)
    kind, verdicts = Counting(), Verdicts()
    first = verdicts.of(kind, PROBLEM, CASE, [np.arange(3.0)], None, None, digests=[b"a" * 16])
    again = verdicts.of(kind, PROBLEM, CASE, [np.arange(3.0)], None, None, digests=[b"a" * 16])
    other = verdicts.of(kind, PROBLEM, CASE, [np.arange(3.0)], None, None, digests=[b"b" * 16])
    elsewhere = verdicts.of(kind, PROBLEM, OTHER_CASE, [np.arange(3.0)], None, None,
                            digests=[b"a" * 16])
    assert again is first and other is not first and elsewhere is not first
    assert kind.calls == 3 and (verdicts.hits, verdicts.misses) == (1, 3)


def test_anything_else_is_judged_again():
    kind, verdicts = Counting(), Verdicts()
    for case, value in [(CASE, np.arange(3.0)), (OTHER_CASE, np.arange(3.0)),
                        (CASE, np.arange(3.0, dtype=np.float32)),
                        (CASE, np.arange(3.0).reshape(3, 1)), (CASE, [0.0, 1.0, 2.0]),
                        (CASE, (0.0, 1.0, 2.0)), (CASE, 0.0), (CASE, -0.0), (CASE, 0),
                        (CASE, {"a": 1.0}), (CASE, {"b": 1.0})]:
        verdicts.of(kind, PROBLEM, case, [value], None, None)
    assert kind.calls == 11 and verdicts.hits == 0


def test_long_messages_count_against_the_bound_wide_characters_fourfold():
    class Wordy(Counting):
        def verdict(self, problem, case, values, expected, course):
            self.calls += 1
            return Verdict("x" * 9_999 + "\U0001d54f")  # no difference kept: only the text
    budget = 3 * (ENTRY + 4 * 10_000)
    kind, verdicts = Wordy(), Verdicts(budget=budget)
    for index in range(10):
        verdicts.of(kind, PROBLEM, CASE, [float(index)], None, None)
        assert verdicts.held <= budget
    assert len(verdicts._kept) == 3
    verdicts.of(kind, PROBLEM, CASE, [0.0], None, None)
    assert kind.calls == 11


def test_a_kind_whose_verdict_may_vary_is_always_judged():
    kind, verdicts = Counting(deterministic=False), Verdicts()
    for _ in range(3):
        verdicts.of(kind, PROBLEM, CASE, [1.0], None, None)
    assert kind.calls == 3


def test_the_answers_kept_are_bounded_and_the_least_recently_recalled_go_first():
    answer = np.zeros(1000)  # 8,000 bytes, kept by its verdict's difference
    budget = 3 * (ENTRY + answer.nbytes + len("wrong (10)"))  # room for three
    kind, verdicts = Counting(), Verdicts(budget=budget)
    for index in range(3):
        verdicts.of(kind, PROBLEM, CASE, [answer + index], None, None)
    verdicts.of(kind, PROBLEM, CASE, [answer + 0], None, None)  # recalled: now the newest
    assert kind.calls == 3
    for index in range(3, 10):
        verdicts.of(kind, PROBLEM, CASE, [answer + index], None, None)
        assert verdicts.held <= budget
    assert len(verdicts._kept) == 3
    verdicts.of(kind, PROBLEM, CASE, [answer + 9], None, None)  # among the last three: kept
    assert kind.calls == 10
    verdicts.of(kind, PROBLEM, CASE, [answer + 1], None, None)  # dropped long ago
    assert kind.calls == 11


def test_a_recalled_verdict_outlives_newer_ones_never_recalled():
    answer = np.zeros(1000)
    budget = 2 * (ENTRY + answer.nbytes + len("wrong (10)"))  # room for two
    kind, verdicts = Counting(), Verdicts(budget=budget)
    verdicts.of(kind, PROBLEM, CASE, [answer], None, None)  # the class's common answer
    for index in range(1, 6):
        verdicts.of(kind, PROBLEM, CASE, [answer + index], None, None)  # each seen once
        verdicts.of(kind, PROBLEM, CASE, [answer], None, None)  # and the common one again
    assert kind.calls == 6  # the common answer was judged once


def test_what_is_shown_of_an_answer_is_made_once_and_counted_while_kept():
    kind, verdicts = Counting(), Verdicts(budget=2 * ENTRY + 5_000)
    made = []

    def make(size):
        made.append(size)
        return [size], size

    verdict = verdicts.of(kind, PROBLEM, CASE, [1.0], None, None)
    held = verdicts.held
    shown = verdicts.show(verdict, "answer", lambda: make(1_000))
    assert verdicts.show(verdict, "answer", lambda: make(1_000)) is shown and made == [1_000]
    assert verdicts.held == held + 1_000
    verdicts.show(verdict, "picture", lambda: make(10_000))  # over the budget: dropped
    assert verdicts.held <= verdicts.budget and not verdicts._kept and not verdicts._keys
    assert verdicts.of(kind, PROBLEM, CASE, [1.0], None, None) is not verdict  # judged anew
    varying = Counting(deterministic=False)  # never kept: shown all the same, counted nowhere
    other = verdicts.of(varying, PROBLEM, CASE, [1.0], None, None)
    held = verdicts.held
    assert verdicts.show(other, "answer", lambda: make(7)) == [7] and verdicts.held == held


def test_students_with_the_same_wrong_answer_share_what_is_shown_of_it(course, sandbox):
    engine = Engine(course=course, sandbox=sandbox, hidden=False, details=True,
                    problems=[p.id for p in course.problems if p.assignment == "optim"])
    first, second = (engine.grade(name, [EXAMPLES / "mistaken"]) for name in ("a", "b"))
    pairs = [(one, two) for p, q in zip(first.problems, second.problems)
             for one, two in zip(p.cases, q.cases)]
    assert any(one.answer for one, _ in pairs) and any(one.picture for one, _ in pairs)
    assert all(one.answer is two.answer and one.picture is two.picture for one, two in pairs)
    assert to_dict(first)["problems"] == to_dict(second)["problems"]


def test_only_kinds_that_say_so_are_recalled():
    assert Kind.deterministic is False  # a new kind is judged every time unless it opts in
    assert kind_of("value").deterministic and kind_of("sampler").deterministic
    assert not kind_of("property").deterministic


def test_a_student_with_answers_seen_before_gets_the_same_result_and_their_own_output(
        course, sandbox):
    engine = Engine(course=course, sandbox=sandbox, hidden=True,
                    problems=[p.id for p in course.problems if p.assignment == "rnn"])
    fresh = Engine(course=course, sandbox=sandbox, hidden=True,
                   problems=[p.id for p in course.problems if p.assignment == "rnn"])
    engine.grade("correct", [EXAMPLES / "correct"])
    printer = engine.grade("printer", [EXAMPLES / "printer"])
    assert engine.verdicts.hits > 0
    assert any(c.output for p in printer.problems for c in p.cases)
    assert to_dict(printer) == to_dict(fresh.grade("printer", [EXAMPLES / "printer"]))


def test_a_recalled_verdict_keeps_each_student_s_own_output(course):
    kind, verdicts = Counting(), Verdicts()
    judged = kind.judge(PROBLEM, CASE, [Answer(np.ones(2), output="hi")], None, course,
                        verdicts)
    again = kind.judge(PROBLEM, CASE, [Answer(np.ones(2), output="ho")], None, course,
                       verdicts)
    assert kind.calls == 1 and judged.result.feedback == again.result.feedback == "wrong (1)"
    assert (judged.result.output, again.result.output) == ("hi", "ho")
