"""Installing grader where the course is not: pins resolved for another Python and platform
(by pip, with the target's markers), and grader's own wheel installed into a fresh virtual
environment. Tests that need the package index skip, with the reason, when it is unreachable."""
from __future__ import annotations

import functools
import json
import os
import socket
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

import grader
from grader import distribution
from grader.distribution import (BuildError, ResolutionError, build_wheel, grader_requirements,
                                 resolve_requirements, target_environment)

PLATFORM = "manylinux2014_x86_64"


@functools.lru_cache(maxsize=None)
def _index_unreachable() -> str:
    try:
        socket.create_connection(("pypi.org", 443), timeout=5).close()
    except OSError as exc:
        return f"the package index (pypi.org) is unreachable: {exc}"
    return ""


@pytest.fixture
def index():
    if _index_unreachable():
        pytest.skip(_index_unreachable())


@pytest.fixture(scope="module")
def pins_310():
    """grader's pins for Python 3.10, resolved once for the module."""
    if _index_unreachable():
        pytest.skip(_index_unreachable())
    return resolve_requirements(grader_requirements(), python="3.10", platform=PLATFORM)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    try:
        return build_wheel(tmp_path_factory.mktemp("dist"))
    except BuildError:
        if _index_unreachable():  # no build backend here, and none to fetch
            pytest.skip(f"no local build backend, and {_index_unreachable()}")
        raise


def test_target_environment():
    env = target_environment("3.10", PLATFORM)
    assert {k: env[k] for k in ("python_version", "python_full_version", "sys_platform",
                                "platform_machine", "implementation_name")} == {
        "python_version": "3.10", "python_full_version": "3.10.0", "sys_platform": "linux",
        "platform_machine": "x86_64", "implementation_name": "cpython"}
    assert target_environment("3.12", "manylinux_2_17_aarch64")["platform_machine"] == "aarch64"
    assert target_environment("3.12", "win_amd64")["sys_platform"] == "win32"
    assert target_environment("3.13", "macosx_11_0_arm64")["sys_platform"] == "darwin"
    with pytest.raises(ValueError, match="not of the form 3.10"):
        target_environment("three", PLATFORM)
    with pytest.raises(ValueError, match="unknown wheel platform tag 'amiga'"):
        target_environment("3.10", "amiga")


def test_grader_requirements_leave_extras_out():
    requirements = grader_requirements()
    assert any(r.startswith("numpy") for r in requirements)
    assert any(r.startswith("tomli") and "python_version" in r for r in requirements)
    assert not any("extra" in r for r in requirements)


def _item(name, version, *requires):
    return {"metadata": {"name": name, "version": version, "requires_dist": list(requires)}}


def test_markers_are_the_targets_not_pips(monkeypatch):
    """pip evaluates markers for the Python running it: what the target needs and pip left
    out is resolved again, and what only the running Python needs is not pinned."""
    rounds = {
        ("tool>=1",): [_item("tool", "2.0", 'backport>=1; python_version < "3.11"',
                             'newonly; python_version >= "3.11"', "helper[fast]",
                             'extra-thing; extra == "dev"'),
                       _item("helper", "1.0", 'speedups; extra == "fast"'),
                       _item("speedups", "0.5"), _item("newonly", "1.0")]}
    rounds[("tool>=1", "backport>=1")] = rounds[("tool>=1",)] + [_item("backport", "1.2")]
    calls = []

    def fake_report(requirements, python, platform):
        calls.append(tuple(requirements))
        return {"install": rounds[tuple(requirements)]}

    monkeypatch.setattr(distribution, "_pip_report", fake_report)
    assert resolve_requirements(["tool>=1", "x; extra == 'a'"], python="3.10") == [
        "backport==1.2", "helper==1.0", "speedups==0.5", "tool==2.0"]
    assert calls == [("tool>=1",), ("tool>=1", "backport>=1")]
    calls.clear()
    assert resolve_requirements(["tool>=1"], python="3.12") == [
        "helper==1.0", "newonly==1.0", "speedups==0.5", "tool==2.0"]
    assert calls == [("tool>=1",)]


def test_a_version_the_target_excludes_is_resolved_again(monkeypatch):
    rounds = {("lib",): [_item("lib", "1.0", 'dep>=2; python_version < "3.11"'),
                         _item("dep", "1.5")],
              ("lib", "dep>=2"): [_item("lib", "1.0", 'dep>=2; python_version < "3.11"'),
                                  _item("dep", "2.1")]}
    monkeypatch.setattr(distribution, "_pip_report", lambda requirements, python, platform:
                        {"install": rounds[tuple(requirements)]})
    assert resolve_requirements(["lib"], python="3.10") == ["dep==2.1", "lib==1.0"]


def test_resolves_grader_for_python_310(pins_310):
    names = {pin.split("==")[0] for pin in pins_310}
    assert all(len(pin.split("==")) == 2 for pin in pins_310)
    assert {"numpy", "pandas", "pytest", "jinja2", "click", "tomli", "exceptiongroup"} <= names


def test_numpy_pin_has_a_cp310_wheel(pins_310, tmp_path):
    (numpy,) = [pin for pin in pins_310 if pin.startswith("numpy==")]
    report = tmp_path / "report.json"
    subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed",
                    "--quiet", "--no-deps", "--report", str(report), "--only-binary=:all:",
                    "--python-version", "3.10", "--platform", PLATFORM,
                    "--target", str(tmp_path / "t"), numpy], check=True, capture_output=True)
    (item,) = json.loads(report.read_text())["install"]
    assert "-cp310-" in item["download_info"]["url"].rsplit("/", 1)[-1]


def test_newer_python_needs_no_backports(index):
    names = {pin.split("==")[0] for pin in
             resolve_requirements(grader_requirements(), python="3.13", platform=PLATFORM)}
    assert "numpy" in names and not names & {"tomli", "exceptiongroup"}


def test_nothing_installs(index):
    with pytest.raises(ResolutionError) as error:
        resolve_requirements(["numpy==1.21.0"], python="3.13", platform=PLATFORM)
    message = str(error.value)
    assert message.startswith("No set of wheels installs numpy==1.21.0 on Python 3.13 "
                              "(manylinux2014_x86_64). pip says:\nERROR: ")
    assert "numpy==1.21.0" in message.split("pip says:")[1]


def test_wheel_contents(wheel):
    assert wheel.name == f"grader-{grader.__version__}-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        entry_points = archive.read(f"grader-{grader.__version__}.dist-info/entry_points.txt")
    assert {"grader/__init__.py", "grader/cli/isolated.ini", "grader/report/templates/base.html",
            "grader/distribution.py"} <= names
    assert not [n for n in names if n.startswith(("tests/", "build/")) or "__pycache__" in n]
    assert b"grader = grader.cli.main:run" in entry_points


def _fresh_venv(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    return venv


def _pip_into(venv, *args):
    # --ignore-installed: pip --python sees its own environment's packages as installed
    return subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"),
                           "install", "--quiet", "--disable-pip-version-check",
                           "--ignore-installed", *args], capture_output=True, text=True)


def _run(venv, *command, cwd):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run([str(venv / "bin" / command[0]), *command[1:]], capture_output=True,
                          text=True, env=env, cwd=cwd)


def test_wheel_installs_and_runs_offline(wheel, tmp_path):
    """The wheel alone, no index; grader's requirements are borrowed from this environment,
    after the fresh one's own packages."""
    venv = _fresh_venv(tmp_path)
    done = _pip_into(venv, "--no-deps", "--no-index", str(wheel))
    assert done.returncode == 0, done.stderr
    site = _run(venv, "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])",
                cwd=tmp_path).stdout.strip()
    (Path(site) / "borrowed.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    where = _run(venv, "python", "-c", "import grader; print(grader.__file__)", cwd=tmp_path)
    assert where.stdout.startswith(str(venv)), where.stdout + where.stderr
    helped = _run(venv, "grader", "--help", cwd=tmp_path)
    assert helped.returncode == 0, helped.stderr
    assert helped.stdout.startswith("Usage: grader")


@pytest.mark.slow
def test_wheel_installs_with_its_requirements(index, wheel, tmp_path):
    """As on a student's machine: the wheel file and the public index, nothing of the course."""
    venv = _fresh_venv(tmp_path)
    done = _pip_into(venv, str(wheel))
    assert done.returncode == 0, done.stderr
    helped = _run(venv, "grader", "--help", cwd=tmp_path)
    assert helped.returncode == 0, helped.stderr
    assert helped.stdout.startswith("Usage: grader")
