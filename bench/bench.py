"""Benchmark of the self-check and of batch grading on the example course, with baselines
measured in the same run.

Self-check: `grader check submissions_example/correct` wall time (median of several runs)
against `python -c "import numpy"`, the floor of any grader written in Python with NumPy.

Batch: N synthetic students built from the honest example submissions of the first three
assignments (rnn, optim, layers; each file made unique), graded with
`grader grade --assignment rnn --assignment optim --assignment layers` (sandbox on) at 100, 300,
500 and 1000 students with --jobs 2, and at 500 with --jobs 1 on every core and on one core only;
submissions per second, ms per
submission (wall, and CPU of every process, children included: the steadier figure on a shared
machine) and the peak resident memory of the grader and every process it waited for. The
baseline is one `pytest --submission` process per student, on a sample.

    python bench/bench.py --students 1000
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "submissions_example"
HONEST = ("correct", "mistaken", "rounded", "syntax_error", "missing_function", "wrong_shapes",
          "raises", "liar", "thief", "forger", "exiter")  # the slow ones measure time limits
FIRST_THREE = ("rnn.py", "optim.py", "layers.py", "rounding.py")
ASSIGNMENTS = ["--assignment", "rnn", "--assignment", "optim", "--assignment", "layers"]


# `grader ...` that also writes the CPU seconds of the grader's own process (its interpreter,
# threads included; not the processes it starts) to the file named first.
OWN_CPU = ("import resource, sys\n"
           "from grader.cli.main import main\n"
           "try:\n"
           "    main(sys.argv[2:], prog_name='grader')\n"
           "finally:\n"
           "    usage = resource.getrusage(resource.RUSAGE_SELF)\n"
           "    with open(sys.argv[1], 'w') as out:\n"
           "        out.write(repr(usage.ru_utime + usage.ru_stime))\n")


def build_class(root: Path, count: int) -> None:
    for index in range(count):
        source = EXAMPLES / HONEST[index % len(HONEST)]
        target = root / f"student{index:04d}"
        target.mkdir(parents=True)
        for name in FIRST_THREE:
            if (source / name).is_file():
                shutil.copyfile(source / name, target / name)
                with open(target / name, "a") as stream:  # every submission differs
                    stream.write(f"\n# student {index}\n")


def timed(command: list[str], cores: set[int] | None = None) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak resident memory (MB) of a command and the processes
    it waited for (the sandbox's zygotes and, through them, every child); `cores` confines
    them all to those cores."""
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE,
                               preexec_fn=(lambda: os.sched_setaffinity(0, cores)) if cores
                               else None)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise SystemExit(f"{' '.join(command)} failed:\n{process.stderr.read().decode()}")
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def median_walls(commands: list[list[str]], runs: int) -> list[float]:
    """The median wall time of each command, run in turn (so that a shared machine's drift
    affects all alike), after a run each to warm the file cache."""
    for command in commands:
        timed(command)
    walls = [[] for _ in commands]
    for _ in range(runs):
        for command, found in zip(commands, walls):
            found.append(timed(command)[0])
    return [statistics.median(found) for found in walls]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=500)
    parser.add_argument("--baseline", type=int, default=20, help="students in the baseline sample")
    parser.add_argument("--runs", type=int, default=7, help="runs of the self-check timings")
    args = parser.parse_args()
    grader = [sys.executable, "-m", "grader.cli"]
    numpy, check = median_walls([[sys.executable, "-c", "import numpy"],
                                 grader + ["check", str(EXAMPLES / "correct")]], args.runs)
    print(f"self-check: grader check {check * 1000:.0f} ms, python -c 'import numpy' "
          f"{numpy * 1000:.0f} ms: {check / numpy:.1f}x (median of {args.runs})")
    rows = []
    with tempfile.TemporaryDirectory(prefix="grader-bench-") as temp:
        temp = Path(temp)
        build_class(temp / "class", args.students)
        everyone = sorted((temp / "class").iterdir())
        # 100 students, and the range: 300 to the class's size
        sizes = sorted({min(count, args.students) for count in (100, 300, 500)} | {args.students})
        middle = min(500, args.students)
        runs = [(count, 2, None) for count in sizes] + [(middle, 1, None)]
        if len(os.sched_getaffinity(0)) >= 2:  # the same class on one core, for the ratio
            runs.append((middle, 1, {min(os.sched_getaffinity(0))}))
        own_cpu = {}
        for count, jobs, cores in runs:
            name = f"{count}-{jobs}-{len(cores) if cores else 'all'}"
            subset = temp / f"class{name}"
            subset.mkdir()
            for student in everyone[:count]:
                shutil.copytree(student, subset / student.name)
            own = temp / f"own{name}"
            seconds, cpu, memory = timed([sys.executable, "-c", OWN_CPU, str(own), "grade",
                                          str(subset), "--out", str(temp / f"out{name}"),
                                          "-q", "--jobs", str(jobs), *ASSIGNMENTS], cores)
            rows.append((f"grader grade, {count} students, --jobs {jobs}"
                         + (", one core" if cores else ""), count, seconds, cpu, memory))
            own_cpu[count, jobs, bool(cores)] = float(own.read_text())
        total, total_cpu, peak = 0.0, 0.0, 0.0
        for student in everyone[:args.baseline]:
            seconds, cpu, memory = timed([sys.executable, "-m", "pytest", "-q", "-c",
                                     str(ROOT / "pyproject.toml"), "-p", "no:cacheprovider",
                                     "--submission", str(student), "--grader-results",
                                     str(temp / "baseline" / f"{student.name}.json"), "-k",
                                     "rnn. or optim. or layers."])
            total += seconds
            total_cpu += cpu
            peak = max(peak, memory)
        rows.append((f"baseline: pytest --submission per student ({args.baseline} sampled)",
                     args.baseline, total, total_cpu, peak))
    print(f"{'run':<62}{'subm/s':>8}{'ms/subm':>10}{'CPU ms/subm':>13}{'peak MB':>10}")
    for name, count, seconds, cpu, memory in rows:
        print(f"{name:<62}{count / seconds:>8.1f}{1000 * seconds / count:>10.1f}"
              f"{1000 * cpu / count:>13.1f}{memory:>10.0f}")
    at_500 = next(r for r in rows if r[0].endswith(f"{min(500, args.students)} students, --jobs 2"))
    one_job = next(r for r in rows if r[0].endswith("--jobs 1"))
    one_core = next((r for r in rows if r[0].endswith("one core")), None)
    baseline_ms = 1000 * rows[-1][2] / rows[-1][1]
    print(f"--jobs 2 over --jobs 1 at {at_500[1]} students: {one_job[2] / at_500[2]:.2f}x; "
          f"grader grade over the baseline: {baseline_ms / (1000 * at_500[2] / at_500[1]):.1f}x")
    if one_core:
        print(f"all {len(os.sched_getaffinity(0))} cores with --jobs 2 over one core with --jobs "
              f"1: {one_core[2] / at_500[2]:.2f}x")
    interpreter = 1000 * own_cpu[one_job[1], 1, False] / one_job[1]
    everything = 1000 * one_job[3] / one_job[1]
    print(f"--jobs 1: the grading process's own interpreter spends {interpreter:.1f} ms of CPU per "
          f"submission (so one process keeps up with {1000 / interpreter:.0f} submissions/s), "
          f"everything together {everything:.1f} ms: with N cores and --jobs N, about "
          f"{everything:.1f}/N ms per submission until the disk or the class files limit it")


if __name__ == "__main__":
    main()
