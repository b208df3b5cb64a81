"""Benchmark of the feedback that teaches: pictures of differences and the class's common wrong
answers.

Prints the import time of Pillow (in fresh interpreters that have imported NumPy, as the grader
has), the cost of a first picture in a fresh process (import and font included), the mean cost
of a picture over typical answers, the cost of rendering a student's report.html without
pictures for comparison, and the time to group the wrong answers of a class of 1000 students
and 100 cases. With --matplotlib (if installed) it measures matplotlib the same way.

    python bench/pictures.py                  # 200 pictures
    python bench/pictures.py --pictures 1000 --matplotlib
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

import numpy as np

from grader.compare.mismatch import compare
from grader.course.model import Tolerance
from grader.report.pictures import difference_picture

TOL = Tolerance(1e-6, 1e-9)
IMPORTS = {
    "Pillow": "import PIL.Image, PIL.ImageDraw, PIL.ImageFont",
    "matplotlib": "import matplotlib; matplotlib.use('Agg'); import matplotlib.pyplot",
}
FIRST_PICTURE = """
import time, numpy as np
from grader.compare.mismatch import compare
from grader.course.model import Tolerance
m = compare(np.arange(25.0).reshape(5, 5).T, np.arange(25.0).reshape(5, 5), Tolerance(1e-6, 0))
start = time.perf_counter()
from grader.report.pictures import difference_picture
difference_picture(m)
print(time.perf_counter() - start)
"""


def fresh(code: str, runs: int) -> float:
    """The median of what `code` prints (seconds), each run in a fresh interpreter."""
    found = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True).stdout
        found.append(float(out.split()[-1]))
    return statistics.median(found)


def import_time(statement: str, runs: int) -> float:
    return fresh("import numpy, time\nstart = time.perf_counter()\n" + statement +
                 "\nprint(time.perf_counter() - start)", runs)


def typical_mismatches(count: int) -> list:
    """Wrong answers as students give them: transposed and scaled matrices, shifted vectors,
    a forgotten time step, a NaN, a large matrix with one wrong block."""
    rng = np.random.default_rng(0)
    makers = []

    def transposed(n):
        a = rng.normal(size=(n, n))
        return a.T.copy(), a

    def shifted(n):
        v = np.sin(np.linspace(0, 6, n))
        w = v.copy()
        w[n // 2:] = v[n // 2 - 1:-1]
        return w, v

    def missing_step():
        h = rng.normal(size=(4, 10, 8)).cumsum(axis=1)
        g = h.copy()
        g[:, 6] = 0
        return g, h

    def with_nan(n):
        a = rng.normal(size=(n, n))
        b = a.copy()
        b[1, 2] = np.nan
        return b, a

    def block(n, m):
        a = rng.normal(size=(n, m))
        b = a.copy()
        b[n // 3:n // 2, m // 4:m // 2] *= 2
        return b, a

    makers = [lambda: transposed(5), lambda: transposed(20), lambda: transposed(64),
              lambda: shifted(50), lambda: shifted(500), missing_step,
              lambda: with_nan(10), lambda: block(200, 300)]
    mismatches = []
    for index in range(count):
        yours, wanted = makers[index % len(makers)]()
        mismatches.append(compare(yours, wanted, TOL))
    return mismatches


def per_picture(mismatches: list, draw) -> tuple[float, float]:
    """Mean and largest seconds per picture (after one warm-up picture)."""
    draw(mismatches[0])
    times = []
    for mismatch in mismatches:
        start = time.perf_counter()
        draw(mismatch)
        times.append(time.perf_counter() - start)
    return statistics.mean(times), max(times)


def matplotlib_picture(mismatch) -> bytes:
    """About the same picture drawn with matplotlib (for comparison only)."""
    import io
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    yours, wanted = np.atleast_2d(mismatch.yours), np.atleast_2d(mismatch.wanted)
    if yours.ndim > 2:
        yours, wanted = yours.reshape(-1, *yours.shape[-2:])[0], \
            wanted.reshape(-1, *wanted.shape[-2:])[0]
    figure, axes = plt.subplots(1, 3, figsize=(5, 2), dpi=96)
    for axis, data in zip(axes, (yours, wanted, np.abs(yours - wanted))):
        axis.imshow(data, interpolation="nearest")
        axis.set_xticks([])
        axis.set_yticks([])
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return buffer.getvalue()


def report_render_time(runs: int = 50) -> float:
    """Seconds to render one report.html without pictures: 23 problems of 5 cases, a third of
    the cases failed with a value mismatch's message."""
    from grader.compare.message import render
    from grader.report.render import render_student
    from grader.results.model import CaseResult, ProblemResult, SubmissionResult

    feedback = render(compare(np.arange(9.0).reshape(3, 3).T, np.arange(9.0).reshape(3, 3),
                              TOL))
    problems = []
    for p in range(23):
        cases = [CaseResult(f"{'public' if c == 0 else 'hidden'}-{c}",
                            "public" if c == 0 else "hidden", (p + c) % 3 != 0,
                            feedback="" if (p + c) % 3 else feedback)
                 for c in range(5)]
        problems.append(ProblemResult(f"assignment.problem{p}", 2.0, cases))
    result = SubmissionResult("student0001", problems)
    render_student(result)  # the template compiled once, as in a batch
    start = time.perf_counter()
    for _ in range(runs):
        render_student(result)
    return (time.perf_counter() - start) / runs


def class_records(wrong: float, distinct: bool):
    """1000 students x 100 cases: a share `wrong` of wrong answers, spread over four common
    wrong answers (half of them off by rounding), or all different when `distinct`."""
    rng = np.random.default_rng(1)
    for case in range(100):
        right = rng.normal(size=(5, 5))
        common = [rng.normal(size=(5, 5)) for _ in range(4)]
        for student in range(1000):
            draw = rng.random()
            if draw >= wrong:
                yield (f"s{student}", "a.p", f"c{case}", right, None, True)
            elif distinct:
                yield (f"s{student}", "a.p", f"c{case}", rng.normal(size=(5, 5)))
            else:
                yield (f"s{student}", "a.p", f"c{case}",
                       common[student % 4] + (1e-12 if draw < wrong / 2 else 0.0))


def grouping_time(wrong: float, distinct: bool) -> tuple[float, int]:
    from grader.results.common import common_wrong_answers
    records = list(class_records(wrong, distinct))
    start = time.perf_counter()
    groups = common_wrong_answers(records, lambda _: TOL)
    return time.perf_counter() - start, len(groups)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pictures", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5, help="fresh interpreters per import")
    parser.add_argument("--matplotlib", action="store_true", help="measure matplotlib too")
    args = parser.parse_args()

    libraries = ["Pillow"] + (["matplotlib"] if args.matplotlib else [])
    for name in libraries:
        try:
            seconds = import_time(IMPORTS[name], args.runs)
        except subprocess.CalledProcessError:
            print(f"{name}: not installed")
            continue
        print(f"import {name} (after NumPy): {seconds * 1000:.1f} ms "
              f"(median of {args.runs} fresh interpreters)")
    print(f"first picture in a fresh process (import, font, drawing): "
          f"{fresh(FIRST_PICTURE, args.runs) * 1000:.1f} ms")

    mismatches = typical_mismatches(args.pictures)
    mean, worst = per_picture(mismatches, difference_picture)
    sizes = [len(difference_picture(m).data_uri) for m in mismatches[:8]]
    print(f"picture, Pillow: {mean * 1000:.2f} ms mean, {worst * 1000:.1f} ms largest, over "
          f"{len(mismatches)} typical answers (data URIs of {min(sizes) // 1024}-"
          f"{max(sizes) // 1024} KB)")
    if args.matplotlib:
        try:
            mpl_mean, mpl_worst = per_picture(mismatches, matplotlib_picture)
            print(f"picture, matplotlib (three imshow panels, no key): {mpl_mean * 1000:.2f} "
                  f"ms mean, {mpl_worst * 1000:.1f} ms largest")
        except ImportError:
            print("matplotlib: not installed")

    report = report_render_time()
    print(f"report.html without pictures (23 problems x 5 cases): {report * 1000:.2f} ms")
    print(f"one picture costs {mean / report:.2f} times a report without pictures; a report "
          f"with 3 pictures {report * 1000 + 3 * mean * 1000:.1f} ms, with 15 (one per failed "
          f"problem here) {report * 1000 + 15 * mean * 1000:.1f} ms")

    for wrong, distinct, label in ((0.25, False, "25% wrong, four common wrong answers"),
                                   (1.0, True, "every answer wrong and different")):
        seconds, groups = grouping_time(wrong, distinct)
        print(f"grouping 1000 students x 100 cases, {label}: {seconds:.2f} s, "
              f"{groups} groups")


if __name__ == "__main__":
    main()
