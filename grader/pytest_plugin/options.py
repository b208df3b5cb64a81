"""The plugin's command-line options, in one `grader` group. Every option but `--submission`
is prefixed `--grader-`, so none can collide with another plugin's."""
from __future__ import annotations

from grader.course import PROBLEMS_DIR, REFERENCE_DIR


def add_options(parser) -> None:
    group = parser.getgroup("grader", "grading student submissions")
    group.addoption("--submission", action="append", dest="grader_submissions", default=[],
                    metavar="PATH", help="a student's directory or file; repeat for several "
                    "students (each directory is one student). Enables the grader plugin.")
    group.addoption("--grader-results", dest="grader_results", metavar="FILE", default=None,
                    help="write results.json (Gradescope format) for a single submission")
    group.addoption("--grader-problems", dest="grader_problems", metavar="DIR",
                    default=PROBLEMS_DIR,
                    help=f"directory of problem manifests (default: {PROBLEMS_DIR})")
    group.addoption("--grader-reference", dest="grader_reference", metavar="DIR",
                    default=REFERENCE_DIR,
                    help=f"directory of reference solutions (default: {REFERENCE_DIR})")
    group.addoption("--grader-kit", dest="grader_kit", metavar="DIR", default=None,
                    help="grade against a student kit (public cases and their expected values) "
                    "instead of --grader-problems/--grader-reference")
    group.addoption("--grader-public-only", dest="grader_public_only", action="store_true",
                    help="run public cases only, as the student self-check does")
    group.addoption("--grader-problem", dest="grader_problems_only", action="append",
                    default=None, metavar="ID",
                    help="grade only this problem id (repeatable; -k works too)")
    group.addoption("--grader-out", dest="grader_out", metavar="DIR", default=None,
                    help="write each student's results.json, report.csv and report.html to "
                    "DIR/<student>/ as soon as the student is graded, and DIR/gradebook.csv "
                    "and DIR/index.html at the end")
    group.addoption("--grader-jobs", dest="grader_jobs", type=int, default=1, metavar="N",
                    help="grade up to N submissions at once (default: 1)")
    group.addoption("--grader-allow-weak-sandbox", dest="grader_allow_weak",
                    action="store_true", help="grade several students (or write --grader-out) "
                    "even where some of the sandbox's protections are off here")
    group.addoption("--grader-hidden-seed", dest="grader_hidden_seed", type=int, default=None,
                    metavar="N", help="seed of the hidden cases (default: the manifest's)")
