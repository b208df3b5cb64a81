"""Mistakes nobody declared: wrong answers shared across a class, grouped within the problem's
tolerance; their rows for common-wrong-answers.csv and the instructor's hint."""
import time

import numpy as np
import pytest

from grader.compare.mismatch import compare
from grader.course.model import Tolerance
from grader.results.common import (CSV_COLUMNS, SHOWN, CommonAnswers, Group, Record,
                                   common_wrong_answers, fingerprint, hint, render_answer,
                                   to_csv_rows)

TOL = Tolerance(1e-6, 1e-9)
RIGHT = np.arange(6.0).reshape(2, 3)
WRONG = RIGHT * 2  # an undeclared mistake: a factor of 2


def tolerance(problem_id):
    return TOL


def groups_of(records, **options):
    return common_wrong_answers(records, tolerance, **options)


def test_six_students_with_the_same_undeclared_wrong_answer_form_one_group_of_six():
    records = [Record(f"student{i}", "layers.ridge", "public-1", WRONG.copy()) for i in range(6)]
    records += [Record(f"honest{i}", "layers.ridge", "public-1", RIGHT.copy(), passed=True)
                for i in range(20)]
    (group,) = groups_of(records)
    assert group == Group("layers.ridge", "public-1", tuple(f"student{i}" for i in range(6)),
                          "array(2, 3) [[ 0., 2., 4.], [ 6., 8., 10.]]", None, 1, 6)
    assert group.count == 6


def test_near_identical_answers_join_within_the_tolerance_only():
    records = [Record(f"s{i}", "p.f", "c", WRONG.copy()) for i in range(3)]
    records.append(Record("near", "p.f", "c", WRONG + 1e-7 * WRONG))       # within rtol
    records.append(Record("near_abs", "p.f", "c", WRONG + 5e-10))          # within atol
    records.append(Record("far", "p.f", "c", WRONG + 1e-3))                # outside
    records.append(Record("far_too", "p.f", "c", WRONG + 1e-3 + 1e-12))    # near "far"
    found = groups_of(records)
    assert [(g.students, g.variants) for g in found] == [
        (("s0", "s1", "s2", "near", "near_abs"), 3), (("far", "far_too"), 2)]


def test_honest_students_form_no_group_and_a_group_of_one_is_not_a_group():
    honest = [Record(f"s{i}", "p.f", "c", RIGHT, passed=True) for i in range(10)]
    assert groups_of(honest) == []
    assert groups_of([]) == []
    alone = [Record("a", "p.f", "c", WRONG), Record("b", "p.f", "c", WRONG + 1.0)]
    assert groups_of(alone) == []
    assert len(groups_of(alone, minimum=1)) == 2


def test_groups_are_per_case_and_largest_first():
    records = [Record(f"s{i}", "p.f", "c1", WRONG) for i in range(2)]
    records += [Record(f"s{i}", "p.f", "c2", WRONG) for i in range(3)]  # same answer, other case
    records += [Record(f"s{i}", "p.g", "c1", WRONG) for i in range(2)]  # other problem
    found = groups_of(records)
    assert [(g.problem_id, g.case_id, g.count) for g in found] == [
        ("p.f", "c2", 3), ("p.f", "c1", 2), ("p.g", "c1", 2)]


def test_a_student_counted_once_per_group():
    records = [Record("s1", "p.f", "c", WRONG), Record("s1", "p.f", "c", WRONG + 1e-12),
               Record("s2", "p.f", "c", WRONG)]
    (group,) = groups_of(records)
    assert group.students == ("s1", "s2")


def test_a_declared_mistake_is_flagged():
    message = "Your answer is twice the right one: the factor 1/2 is missing."
    records = [Record(f"s{i}", "p.f", "c", WRONG, mistake=message) for i in range(4)]
    records += [Record(f"t{i}", "p.f", "c", WRONG + 1.0) for i in range(2)]
    declared, undeclared = groups_of(records)
    assert declared.declared_mistake == message and undeclared.declared_mistake is None
    assert hint(declared) == ('Declared already: these students read "Your answer is twice '
                              'the right one: the factor 1/2 is mis..."')
    assert hint(undeclared) == (
        "To explain it to these 2 students, add a [[problem.mistake]] to problem f in "
        "problems/p.toml: function = a reference function returning this answer, message = "
        "what went wrong.")


def test_csv_rows():
    told = "not equal to tolerance: yours 1.5, expected 1.25"
    records = [Record(f"s{i}", "layers.ridge", "hidden-2", 1.5, mistake="m" if i else None,
                      diagnosis=told if i else "") for i in range(3)]
    rows = to_csv_rows(groups_of(records))
    assert rows == [{"problem": "layers.ridge", "case": "hidden-2", "students_count": 3,
                     "students": "s0; s1; s2", "answer": "1.5", "declared_mistake": "m",
                     "diagnosis": told}]  # whatever record says it (s0's comes from a
    assert tuple(rows[0]) == CSV_COLUMNS         # grade.json written before diagnoses were kept)


def test_a_merged_answer_keeps_what_its_students_were_told():
    told = "shape mismatch: expected (3,), got (3, 1)."
    parts = [CommonAnswers(lambda p: TOL), CommonAnswers(lambda p: TOL)]
    parts[0].add(Record("a", "p.f", "c", WRONG))  # no diagnosis: an older grade.json
    parts[1].add(Record("b", "p.f", "c", WRONG, diagnosis=told))
    parts[0].merge(parts[1])
    assert parts[0].groups()[0].diagnosis == told


def test_tolerance_per_output_key():
    loose = Tolerance(1e-1, 0.0)

    def per_output(problem_id):
        return lambda key: loose if key == "loss" else TOL

    records = [Record("a", "p.f", "c", {"loss": 1.0, "grad": np.ones(3)}),
               Record("b", "p.f", "c", {"grad": np.ones(3), "loss": 1.05}),  # loss within 10%
               Record("c", "p.f", "c", {"loss": 1.0, "grad": np.ones(3) * 1.05})]
    (group,) = common_wrong_answers(records, per_output)
    assert group.students == ("a", "b")


def test_structures_must_agree_as_the_comparison_sees_them():
    """A list, a tuple and an array of the same numbers are one answer (the comparison takes
    them alike, and a student returns any of them); NaN and inf positions must agree."""
    records = [Record("list", "p.f", "c", [1.0, 2.0]), Record("tuple", "p.f", "c", (1.0, 2.0)),
               Record("array", "p.f", "c", np.array([1.0, 2.0])),
               Record("array2", "p.f", "c", np.array([1.0, 2.0 + 1e-12])),
               Record("nan1", "p.f", "c", np.array([np.nan, 2.0])),
               Record("nan2", "p.f", "c", np.array([np.nan, 2.0 + 1e-12])),
               Record("nan3", "p.f", "c", np.array([1.0, np.nan])),
               Record("inf", "p.f", "c", np.array([np.inf, 2.0])),
               Record("-inf", "p.f", "c", np.array([-np.inf, 2.0])),
               Record("transposed", "p.f", "c", np.array([2.0, 1.0]))]
    assert sorted(tuple(sorted(g.students)) for g in groups_of(records)) == [
        ("array", "array2", "list", "tuple"), ("nan1", "nan2")]


def test_answers_of_any_kind_do_not_crash():
    odd = [None, "text", True, np.bool_(False), 10 ** 400, -(10 ** 400), 3, np.int8(3),
           np.float32(1.5), {"a": [1, (2, {"b": None})]}, [], (), {}, np.zeros((0, 3)),
           np.array([True, False]), np.zeros((2, 2), np.float16), np.arange(3, dtype="u8"),
           [np.nan, np.inf], {"x": "y" * 10_000}, object()]
    records = [Record(f"s{i}-{k}", "p.f", "c", value) for k, value in enumerate(odd)
               for i in range(2)]
    found = groups_of(records)
    assert sum(g.count for g in found) == len(records)
    assert all(len(g.answer) <= SHOWN for g in found)


def test_large_answers_group_by_their_exact_contents_only():
    big = np.random.default_rng(0).normal(size=20_000)  # 160 KB of data
    records = [Record("a", "p.f", "c", big), Record("b", "p.f", "c", big.copy()),
               Record("c", "p.f", "c", big + 1e-12)]
    (group,) = groups_of(records)
    assert group.students == ("a", "b")
    assert group.answer.startswith("array(20000,) [")
    assert len(group.answer) <= SHOWN


def test_once_the_memory_budget_is_spent_answers_group_exactly():
    common = CommonAnswers(tolerance, kept=0)
    for student, value in [("a", WRONG), ("b", WRONG + 1e-12), ("c", WRONG.copy())]:
        common.add((student, "p.f", "c", value))
    (group,) = common.groups()
    assert group.students == ("a", "c")


def test_rendering_is_bounded():
    assert render_answer(np.zeros((100, 100))) == (
        "array(100, 100) [[0., 0., ..., 0., 0.], [0., 0., ..., 0., 0.], ..., [0., 0., ..., 0., "
        "0.], [0., 0., ..., 0., 0.]]")
    assert len(render_answer({"k" * 500: ["v" * 500] * 50})) == SHOWN
    assert render_answer([1.0, 2.5, (3, None)]) == "[1, 2.5, (3, None)]"
    assert render_answer(np.float64(0.1) + np.float64(0.2)) == "0.3"


def test_fingerprints_tell_types_apart():
    assert fingerprint([1.0])[0] != fingerprint((1.0,))[0]
    assert fingerprint(np.zeros(2, "f4"))[0] != fingerprint(np.zeros(2, "f8"))[0]
    assert fingerprint(np.zeros((2, 1)))[0] != fingerprint(np.zeros((1, 2)))[0]
    assert fingerprint({"a": 1})[0] != fingerprint({"a": 1.0})[0]
    assert fingerprint(np.arange(4.0))[0] == fingerprint(np.arange(4.0)[::-1][::-1].copy())[0]
    assert fingerprint(np.zeros(1000))[1] == 8000 + 120  # its data, its object and its slot


def naive_groups(answers, tol):
    """Leader clustering without pruning: each answer (one student's, all distinct), in the
    order of their students' names, compared with every earlier leader, largest group first
    (ties: the earliest), joining the first it matches."""
    leaders = []
    for student, value in sorted(answers, key=lambda answer: answer[0]):
        for leader in sorted(leaders, key=len, reverse=True):  # stable: ties keep their order
            if compare(value, leader[0][1], tol) is None:
                leader.append((student, value))
                break
        else:
            leaders.append([(student, value)])
    return sorted(tuple(s for s, _ in group) for group in leaders if len(group) > 1)


@pytest.mark.parametrize("seed", range(5))
def test_pruning_loses_no_match(seed):
    rng = np.random.default_rng(seed)
    tol = Tolerance(1e-3, 1e-3)
    centres = [rng.normal(size=(3, 3)) * 10.0 ** rng.integers(-3, 3) for _ in range(4)]
    answers = []
    for i in range(150):
        centre = centres[rng.integers(len(centres))]
        scale = rng.choice([1e-5, 1e-4, 5e-4, 1e-3, 1e-2])
        answers.append((f"s{i}", centre + scale * rng.normal(size=centre.shape)
                        * np.abs(centre)))
    records = [Record(s, "p.f", "c", v) for s, v in answers]
    found = common_wrong_answers(records, lambda _: tol)
    assert sorted(g.students for g in found) == naive_groups(answers, tol)


def test_a_class_of_1000_students_and_100_cases_is_grouped_fast():
    rng = np.random.default_rng(3)
    records = []
    for case in range(100):
        right = rng.normal(size=(5, 5))
        wrongs = [rng.normal(size=(5, 5)) for _ in range(4)]
        for student in range(1000):
            draw = rng.random()
            if draw < 0.75:
                records.append((f"s{student}", "a.p", f"c{case}", right, None, True))
            elif draw < 0.9:
                records.append((f"s{student}", "a.p", f"c{case}",
                                wrongs[student % 4] + (1e-12 if draw < 0.8 else 0.0)))
            else:
                records.append((f"s{student}", "a.p", f"c{case}", rng.normal(size=(5, 5))))
    start = time.perf_counter()
    found = common_wrong_answers(records, tolerance)
    elapsed = time.perf_counter() - start
    assert len(found) == 400 and all(g.variants == 2 for g in found)
    assert elapsed < 10  # about 0.3 s here; a generous bound for a loaded machine


def test_data_size_is_the_size_fingerprint_gives_counted_only_up_to_a_budget():
    from grader.results.common import data_size, fingerprint
    values = [None, True, 3, 10**30, 2.5, "é" * 5, np.arange(6.0), np.float32(1.5),
              [1, (2.0, "ab")], {"W": np.ones((3, 4)), "b": [np.zeros(2), None]}, object()]
    for value in values:
        assert data_size(value) == fingerprint(value)[1], value
    big = [np.ones(1000)] * 50  # 50 arrays of 8 KB each
    assert data_size(big) == fingerprint(big)[1] > 400_000
    assert 16 << 10 < data_size(big, 16 << 10) < 40_000  # stopped soon after the budget


@pytest.mark.parametrize("make", [
    lambda: [{} for _ in range(2000)], lambda: [[] for _ in range(2000)],
    lambda: [float(i) for i in range(2000)], lambda: [np.zeros(1) for _ in range(500)],
    lambda: {f"k{i}": float(i) for i in range(1000)}, lambda: ["ab" * i for i in range(300)],
    lambda: np.zeros((50, 50)), lambda: [(1.5, None, True, 7)] * 1 + [(i, 2.5) for i in range(500)],
], ids=["dicts", "lists", "floats", "arrays", "dict", "strings", "array", "tuples"])
def test_an_answer_s_size_is_about_what_it_holds_decoded(make):
    """The size that decides whether a wrong answer is kept, and what the class's summary
    counts against its budget, is at least half the memory the decoded answer takes (a list of
    empty dicts was counted 8 bytes a dict: a tenth of their memory), and not much more (small
    integers, which CPython shares, are counted as objects of their own)."""
    import tracemalloc
    from grader.results.common import data_size
    from grader.sandbox import wire
    frame = wire.dumps({"value": wire.encode(make())}, [])[wire.HEADER.size:]
    tracemalloc.start()
    message = wire.parse(frame)  # as the grader reads an answer: from the child's bytes
    value = wire.decode(message["value"])
    del message
    held = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert held / 2 <= data_size(value) <= held * 3, (data_size(value), held)
    assert fingerprint(value)[1] == data_size(value)


def _mixed_records(seed):
    """Records of a class: shared, near-identical, distinct and large wrong answers, declared
    mistakes tied in count, and two answers by one student."""
    rng = np.random.default_rng(seed)
    shared = [rng.normal(size=(3, 3)) for _ in range(4)]
    big = rng.normal(size=10_000)
    records = []
    for i in range(60):
        pick = rng.integers(6)
        value = (shared[pick] + (1e-12 if rng.random() < 0.3 else 0.0) if pick < 4 else
                 big.copy() if pick == 4 else rng.normal(size=rng.integers(1, 30)))
        mistake = ["a", "b", None][i % 3] if pick < 2 else None
        records.append(Record(f"s{i:02d}", "p.f", f"c{i % 2}", value, mistake))
    records.append(Record("s00", "p.f", "c0", shared[0] * 3))
    return records


def _everything(common):
    """What a CommonAnswers tells: its groups of one and more, and which values it kept."""
    kept = sorted((key, digest) for key, answers in common._cases.items()
                  for digest, answer in answers.items() if answer.value is not None)
    return common.groups(minimum=1), kept


@pytest.mark.parametrize("budget", [10 ** 9, 600, 0])
def test_groups_do_not_depend_on_the_order_or_on_merging_parts(budget):
    """Whatever the order the answers come in, and however the class is split into parts
    merged afterwards (each part's answers pickled, as a process sends them), the groups, their
    rendering and the values kept under the memory budget are the same."""
    import pickle
    records = _mixed_records(0)
    whole = CommonAnswers(tolerance, kept=budget)
    for record in records:
        whole.add(record)
    expected = _everything(whole)
    assert any(len(g.students) >= 3 for g in expected[0])
    if budget == 600:  # some values kept and some not: the budget decided
        assert 0 < len(expected[1]) < sum(len(a) for a in whole._cases.values())
    rng = np.random.default_rng(1)
    for _ in range(4):
        order = rng.permutation(len(records))
        parts = [CommonAnswers(tolerance, kept=budget) for _ in range(3)]
        for n in order:
            parts[rng.integers(3)].add(records[n])
        merged = pickle.loads(pickle.dumps(parts[0]))
        merged._tolerance_of = tolerance  # the tolerance does not travel with it
        for part in parts[1:]:
            merged.merge(pickle.loads(pickle.dumps(part)))
        assert _everything(merged) == expected


@pytest.fixture
def comparisons(monkeypatch):
    """The outcome of every comparison the grouping makes (True: a match), in order."""
    from grader.results import common
    outcomes = []
    real = common.matches

    def counted(actual, expected, tolerance):
        outcomes.append(real(actual, expected, tolerance))
        return outcomes[-1]

    monkeypatch.setattr(common, "matches", counted)
    return outcomes


def test_answers_crafted_to_defeat_the_pruning_cost_comparisons_linear_in_their_number(
        comparisons):
    """One huge element gives every answer a reach that covers every other's weighted sum, so
    each would be compared with every leader before: 400 answers, 80,000 comparisons."""
    rng = np.random.default_rng(7)
    shared = rng.random(100)
    shared[0] = 1e300
    records = [Record(f"a{i}", "a.p", "c", shared.copy()) for i in range(3)]
    records += [Record(f"b{i}", "a.p", "c", shared * (1 + 1e-9)) for i in range(3)]
    for i in range(400):
        crafted = rng.random(100)
        crafted[0] = 1e300
        records.append(Record(f"crafted{i:03d}", "a.p", "c", crafted))
    found = groups_of(records)
    assert [g.students for g in found] == [("a0", "a1", "a2", "b0", "b1", "b2")]
    assert len(comparisons) <= 10 * len(records)  # linear: ROUNDS (8) a distinct answer at most


def unprobed_twin(value, shift, *, at=(1, 2)):
    """`value` (a flat float array of at least 15 numbers) moved by `shift` at two places the
    grouping does not probe, so that its weighted sum stays the same: far from `value`, yet
    within reach of it by the sum alone."""
    from grader.results import common
    probed = np.linspace(0, value.size - 1, getattr(common, "PROBES", 8)).astype(int)
    assert not set(at) & set(probed)
    weights = common._weights(value.size)
    twin = value.copy()
    twin[at[0]] += shift
    twin[at[1]] -= shift * weights[at[0]] / weights[at[1]]
    return twin


@pytest.mark.parametrize("scale, noise, largest", [(1.5, 5e-6, 1000), (1.0, 6e-7, 1000),
                                                   (1.0, 4e-7, 1003)])
def test_answers_near_but_not_within_the_tolerance_cost_a_group_none_of_its_students(
        scale, noise, largest):
    """Near misses of a mistake (or of another answer), each leading a group of its own, fail
    against one another: they must not spend what the mistake's own students need. `largest`
    is what grouping without pruning or budget finds (near misses within the tolerance of
    the mistake's leader join it)."""
    rng = np.random.default_rng(0)
    mistake = rng.normal(size=100)
    values = [mistake * (1 + 1e-9 * rng.normal(size=100)) for _ in range(1000)]  # float noise
    values += [scale * mistake * (1 + noise * rng.normal(size=100)) for _ in range(500)]
    names = rng.permutation(len(values))
    found = groups_of([Record(f"s{names[i]:05d}", "a.p", "c", v) for i, v in enumerate(values)])
    assert found[0].count == largest


def test_answers_crafted_to_share_a_group_s_weighted_sum_take_none_of_its_students():
    rng = np.random.default_rng(1)
    mistake = rng.normal(size=100)
    records = [Record(f"b{i:04d}", "a.p", "c", mistake * (1 + 1e-9 * rng.normal(size=100)))
               for i in range(300)]
    for k in range(20):  # each handed in by two students whose names sort first
        crafted = unprobed_twin(mistake, 1.0 + k)
        records += [Record(f"a{k:02d}{twin}", "a.p", "c", crafted.copy()) for twin in "xy"]
    found = groups_of(records)
    assert found[0].students == tuple(f"b{i:04d}" for i in range(300))
    assert [g.count for g in found[1:]] == [2] * 20


def test_comparing_answers_that_compare_walks_in_python_is_bounded(comparisons):
    """Lists compare() walks item by item cost far more than arrays of as many numbers: such
    answers crafted to pass every cheap test get few comparisons in vain."""
    base = np.random.default_rng(2).normal(size=100)
    records = [Record(f"s{k:03d}", "a.p", "c",
                      {"x": [None] * 2000 + unprobed_twin(base, 1.0 + k).tolist()})
               for k in range(100)]
    assert groups_of(records) == []
    # 4,950 pairs; ROUNDS (8) a distinct answer would be 800: about one each, and a few more
    # from the shared pool
    assert comparisons.count(False) <= 1.2 * len(records)


def test_grouping_answers_of_small_integers_takes_memory_bounded_by_a_chunk():
    import tracemalloc
    rng = np.random.default_rng(3)
    common = CommonAnswers(tolerance)
    for i in range(200):  # 12 MB of int8 answers, 96 MB as float
        common.add(Record(f"s{i}", "a.p", "c", rng.integers(-100, 100, 60_000).astype(np.int8)))
    tracemalloc.start()
    try:
        common.groups()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 80e6  # a 16 MB chunk made float and what judging it takes; 300 MB before


def test_grouping_lists_of_python_floats_takes_memory_about_their_size():
    """Each item of a list is a number of its own (its own output, at the top): it is kept as
    it is, not made an array of one (which took 13 times the answers' size)."""
    import tracemalloc
    from grader.results.common import data_size
    rng = np.random.default_rng(4)
    common = CommonAnswers(tolerance)
    answers = [list(map(float, rng.random(1500))) for _ in range(100)]
    for i, answer in enumerate(answers):
        common.add(Record(f"s{i}", "a.p", "c", answer))
    tracemalloc.start()
    try:
        assert common.groups() == []
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 3 * sum(data_size(answer) for answer in answers)


def test_the_hint_does_not_ask_to_declare_what_the_grader_tells_already():
    rounded = Group("rnn.loss", "public-1", ("a", "b"), "26.88", diagnosis=(
        "not equal to tolerance rtol=1e-06, atol=1e-09. Your answer is the expected one rounded "
        "to 2 decimal places: return it at full precision (round only what you print)."))
    assert hint(rounded) == ("The grader tells these 2 students what their answer is already "
                             "(above): a [[problem.mistake]] would say it again.")
    stub = Group("rnn.loss", "public-1", ("a", "b"), "None", diagnosis=(
        "expected a number, got None. Your function returned None: is a `return` missing, or "
        "is it still the starter code?"))
    assert "already" in hint(stub)
    plain = Group("rnn.loss", "public-1", ("a", "b"), "53.75",
                  diagnosis="not equal to tolerance rtol=1e-06, atol=1e-09.")
    assert "add a [[problem.mistake]] to problem loss in problems/rnn.toml" in hint(plain)
