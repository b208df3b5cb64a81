"""The pytest entry point (`pytest11`): registers the options, the hook specifications and the
`grader` marker, and, when `--submission` is given, builds the `GradingSession` from the
options. It does nothing else: without `--submission` a pytest run is untouched.
A submission never configures the grader: with `--submission`, no conftest.py is loaded, and if
pytest took its configuration file or its rootdir from inside a submission, the run is refused
before anything is graded.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from grader.pytest_plugin.hookspecs import GraderHookSpecs
from grader.pytest_plugin.options import add_options
from grader.pytest_plugin.session import GradingSession
from grader.pytest_plugin.state import STATE, session_of
from grader.submission.collect import students_of

__all__ = ["session_of"]


def pytest_addhooks(pluginmanager):
    pluginmanager.add_hookspecs(GraderHookSpecs)


def pytest_addoption(parser):
    add_options(parser)


def pytest_load_initial_conftests(early_config, parser, args):
    """With --submission, pytest loads no conftest.py at all (before pytest's own
    implementation, which runs last, looks for them): one inside a submission, or in the
    folder pytest was started from, would otherwise run as the grader's own code."""
    if getattr(early_config.known_args_namespace, "grader_submissions", None):
        early_config.known_args_namespace.noconftest = True


def _inside(path: Path | None, folders: list[Path]) -> Path | None:
    if path is None:
        return None
    path = Path(path).resolve()
    return next((f for f in folders if path == f or f in path.parents), None)


def refuse_submission_config(config, submissions: list[Path]) -> None:
    """A UsageError when pytest's configuration file, its rootdir or a conftest.py it loaded
    lies inside a submission."""
    folders = [p.resolve() if p.is_dir() else p.resolve().parent for p in submissions]
    found = [("configuration file", config.inipath), ("rootdir", config.rootpath)]
    found += [("conftest.py", Path(plugin.__file__)) for plugin in
              config.pluginmanager.get_plugins() if getattr(plugin, "__file__", None)]
    for what, path in found:
        folder = _inside(path, folders)
        if folder is not None:
            raise pytest.UsageError(
                f"pytest took its {what} ({path}) from inside the submission {folder}: a "
                "submission never configures the grader. Give pytest the course's own "
                "configuration, for example: pytest -c pyproject.toml --submission ...")


def _from_options(config) -> GradingSession:
    from grader.course.manifest import ManifestError, load_course
    from grader.engine import Engine, UnknownProblem, start_sandbox
    option = config.option
    paths = [Path(p) for p in option.grader_submissions]
    for path in paths:
        if not path.exists():
            raise pytest.UsageError(f"--submission {path}: no such file or directory")
    refuse_submission_config(config, paths)
    students = students_of(paths)
    if option.grader_results and len(students) > 1:
        raise pytest.UsageError("--grader-results writes one student's results.json; give a "
                                "single --submission (or use `grader grade`)")
    expectations = None
    try:
        if option.grader_kit:
            from grader.course.kit import load_kit
            course, expectations, _ = load_kit(option.grader_kit)
            private = [Path(option.grader_kit)]
        else:
            course = load_course(option.grader_problems, option.grader_reference)
            private = [Path(option.grader_problems), Path(option.grader_reference)]
    except ManifestError as exc:
        raise pytest.UsageError(str(exc)) from None
    private += [p for p in paths if p.is_dir()]
    if option.grader_results:
        private.append(Path(option.grader_results).resolve().parent)
    if option.grader_out:
        private.append(Path(option.grader_out))
    hidden = not option.grader_public_only and not option.grader_kit
    try:
        engine = Engine(course=course, hidden=hidden,
                        problems=option.grader_problems_only,
                        hidden_seed=option.grader_hidden_seed, expectations=expectations,
                        details=bool(option.grader_out))
    except UnknownProblem as exc:
        raise pytest.UsageError(f"--grader-problem: unknown problem id {exc.args[0]}") from None
    engine.sandbox = start_sandbox(private=private)
    gaps = engine.sandbox.gaps
    if gaps and (len(students) > 1 or option.grader_out) and not option.grader_allow_weak:
        engine.sandbox.close()
        raise pytest.UsageError(
            "refusing to grade other people's code: these protections of the sandbox are off "
            "here: " + "; ".join(gaps) + ". Grade on a Linux machine where they hold, or pass "
            "--grader-allow-weak-sandbox.")
    writer = None
    if option.grader_out:
        from grader.batch.outputs import ClassWriter
        from grader.batch.plan import course_fingerprint
        from grader.report.classpage import ClassSummary
        fingerprint = course_fingerprint(option.grader_problems, option.grader_reference,
                                         option.grader_hidden_seed)
        writer = ClassWriter(Path(option.grader_out), fingerprint, students,
                             summary=ClassSummary(course.tolerance_of), hidden=hidden)
    session = GradingSession(engine=engine, students=students, jobs=option.grader_jobs,
                             writer=writer, results_path=option.grader_results,
                             on_finish=None if writer is None else lambda: _class_files(writer),
                             on_close=engine.sandbox.close)
    return session


def _class_files(writer) -> list[Path]:
    """Write the class files of --grader-out (from the students graded, and those graded in
    earlier runs into the same folder); their paths."""
    from grader.batch.outputs import CLASS_FILES
    writer.finish()
    return [writer.out / name for name in CLASS_FILES]


@pytest.hookimpl(trylast=True)
def pytest_configure(config):
    config.addinivalue_line("markers", "grader: a problem item of a grading session")
    if config.option.grader_submissions and config.stash.get(STATE, None) is None \
            and not hasattr(config, "workerinput"):
        session = _from_options(config)
        config.pluginmanager.register(session, "grader-session")  # configured at once


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    session = config.pluginmanager.get_plugin("grader-session")
    if session is not None:
        config.pluginmanager.unregister(session)
