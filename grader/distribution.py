"""Installing grader where the course is not: requirement pins that install on another Python
and platform (such as Gradescope's image), found by asking pip itself, and grader's own wheel,
built from its source tree, so that a student kit installs with one command and no access to
the course. pip resolves for the target's wheel tags and Requires-Python but evaluates markers
for the interpreter running it, so the dependency tree is walked again with the target's
markers and whatever the target needs that pip left out is resolved again. ("grader" on the
public index is an unrelated project: install grader from its wheel, never by name.)
"""
from __future__ import annotations

import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

DISTRIBUTION = "grader"
PIP_TIMEOUT = 600
MAX_ROUNDS = 6


class ResolutionError(Exception):
    """pip found no set of wheels that installs on the target; the message carries pip's
    reason."""


class BuildError(Exception):
    """grader's wheel could not be built; the message carries the build's reason."""


def grader_requirements() -> list[str]:
    """grader's own requirements, from its installed metadata, without the extras."""
    return [spec for spec in importlib.metadata.requires(DISTRIBUTION) or []
            if not _has_extra(Requirement(spec))]


def _has_extra(requirement: Requirement) -> bool:
    return requirement.marker is not None and "extra" in str(requirement.marker)


def target_environment(python: str, platform: str) -> dict[str, str]:
    """The environment markers of CPython `python` ("3.10") on a wheel platform tag
    ("manylinux2014_x86_64", "win_amd64", "macosx_11_0_arm64")."""
    parts = python.split(".")
    if len(parts) < 2 or not all(p.isdigit() for p in parts):
        raise ValueError(f"Python version {python!r} is not of the form 3.10")
    full = ".".join(parts + ["0"] * (3 - len(parts)))
    env = dict(default_environment())
    env.update(python_version=".".join(parts[:2]), python_full_version=full,
               implementation_name="cpython", implementation_version=full,
               platform_python_implementation="CPython", platform_release="",
               platform_version="")
    linux = re.fullmatch(r"(?:many|musl)?linux(?:\d+|_\d+_\d+)?_(.+)", platform)
    mac = re.fullmatch(r"macosx_\d+_\d+_(.+)", platform)
    if linux:
        env.update(sys_platform="linux", platform_system="Linux", os_name="posix",
                   platform_machine=linux.group(1))
    elif mac:
        machine = {"universal2": "arm64", "intel": "x86_64"}.get(mac.group(1), mac.group(1))
        env.update(sys_platform="darwin", platform_system="Darwin", os_name="posix",
                   platform_machine=machine)
    elif platform.startswith("win"):
        machine = {"win_amd64": "AMD64", "win32": "x86", "win_arm64": "ARM64"}.get(platform, "")
        env.update(sys_platform="win32", platform_system="Windows", os_name="nt",
                   platform_machine=machine)
    else:
        raise ValueError(f"unknown wheel platform tag {platform!r} (for example "
                         "manylinux2014_x86_64, win_amd64, macosx_11_0_arm64)")
    return env


def _applies(requirement: Requirement, env: dict, extras=("",)) -> bool:
    if requirement.marker is None:
        return True
    return any(requirement.marker.evaluate({**env, "extra": extra}) for extra in extras)


def _plain(requirement: Requirement) -> str:
    """The requirement without its marker."""
    extras = f"[{','.join(sorted(requirement.extras))}]" if requirement.extras else ""
    return f"{requirement.name}{extras}{requirement.specifier}"


def _pip_report(requirements: list[str], python: str, platform: str) -> dict:
    """pip's installation report for `requirements` on the target, without installing."""
    with tempfile.TemporaryDirectory(prefix="grader-resolve-") as scratch:
        report = Path(scratch) / "report.json"
        command = [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed",
                   "--quiet", "--no-input", "--disable-pip-version-check",
                   "--report", str(report), "--only-binary=:all:",
                   "--implementation", "cp", "--python-version", python, "--platform", platform,
                   "--target", str(Path(scratch) / "target"), *requirements]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=PIP_TIMEOUT,
                                  env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"})
        except subprocess.TimeoutExpired:
            raise ResolutionError(f"pip did not answer within {PIP_TIMEOUT} s while resolving "
                                  f"{' '.join(requirements)} for Python {python} on "
                                  f"{platform}") from None
        if done.returncode != 0 or not report.is_file():
            errors = [line for line in done.stderr.splitlines() if line.startswith("ERROR")]
            reason = "\n".join(errors or done.stderr.strip().splitlines()[-5:]) or \
                f"pip exited with code {done.returncode}"
            raise ResolutionError(f"No set of wheels installs {' '.join(requirements)} on "
                                  f"Python {python} ({platform}). pip says:\n{reason}")
        return json.loads(report.read_text(encoding="utf-8"))


def _walk(top: list[Requirement], chosen: dict, env: dict) -> tuple[dict, list[str]]:
    """The distributions the target needs, walking from `top` through each chosen
    distribution's requirements with the target's markers; and the requirements the target
    needs that `chosen` (name -> report item) lacks or does not satisfy."""
    needed: dict[str, set] = {}
    missing: list[str] = []
    stack = list(top)
    seen = set()
    while stack:
        requirement = stack.pop()
        name = canonicalize_name(requirement.name)
        item = chosen.get(name)
        version = item["metadata"]["version"] if item else None
        if item is None or not requirement.specifier.contains(version, prereleases=True):
            if _plain(requirement) not in missing:
                missing.append(_plain(requirement))
            continue
        extras = needed.setdefault(name, set())
        extras |= {canonicalize_name(e) for e in requirement.extras}
        key = (name, frozenset(extras))
        if key in seen:
            continue
        seen.add(key)
        for spec in item["metadata"].get("requires_dist") or []:
            dependency = Requirement(spec)
            if _applies(dependency, env, ("", *sorted(extras))):
                stack.append(dependency)
    return needed, missing


def resolve_requirements(requirements: list[str], *, python: str = "3.10",
                         platform: str = "manylinux2014_x86_64") -> list[str]:
    """`name==version` pins, sorted by name, for `requirements` and everything they need on
    CPython `python` and wheel platform `platform`, from binary wheels only. Markers are
    evaluated for the target (extras are dropped). Raises ResolutionError with pip's reason
    when no set of wheels installs there."""
    env = target_environment(python, platform)
    top = [r for r in map(Requirement, requirements) if _applies(r, env)]
    request = [_plain(r) for r in top]
    if not request:
        return []
    for _ in range(MAX_ROUNDS):
        report = _pip_report(request, python, platform)
        chosen = {canonicalize_name(item["metadata"]["name"]): item
                  for item in report.get("install", [])}
        needed, missing = _walk(top, chosen, env)
        if not missing:
            return [f"{name}=={chosen[name]['metadata']['version']}" for name in sorted(needed)]
        request += [spec for spec in missing if spec not in request]
    raise ResolutionError(f"pip's resolution for Python {python} ({platform}) kept lacking "
                          f"{', '.join(missing)} after {MAX_ROUNDS} rounds")


def project_root() -> Path:
    """grader's source tree (where pyproject.toml is)."""
    root = Path(__file__).resolve().parents[1]
    if not (root / "pyproject.toml").is_file():
        raise BuildError("building grader's wheel needs its source tree (pip install -e .); "
                         f"{root} has no pyproject.toml")
    return root


def _source_copy(root: Path, scratch: Path) -> Path:
    """A clean copy of what the wheel is built from, so that nothing is written into the
    source tree and no stale build output is packaged."""
    source = scratch / "source"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    shutil.copytree(root / "grader", source / "grader", ignore=ignore)
    for path in root.iterdir():
        if path.is_file() and (path.name in ("pyproject.toml", "setup.cfg", "setup.py",
                                             "MANIFEST.in", "README.md")
                               or path.name.upper().startswith(("LICENSE", "COPYING"))):
            shutil.copy2(path, source / path.name)
    return source


def build_wheel(out_dir: Path) -> Path:
    """Build grader's wheel from its source tree into `out_dir`; returns its path. The build
    uses the build backend installed here (no network); only if that fails does pip build
    it in an isolated environment, which fetches the backend from the package index."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="grader-wheel-") as scratch:
        scratch = Path(scratch)
        source = _source_copy(project_root(), scratch)
        wheels = scratch / "wheels"
        reasons = []
        for isolation in (["--no-build-isolation"], []):
            done = subprocess.run(
                [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--no-input",
                 "--disable-pip-version-check", *isolation, "--wheel-dir", str(wheels),
                 str(source)], capture_output=True, text=True, timeout=PIP_TIMEOUT, cwd=scratch)
            built = sorted(wheels.glob(f"{DISTRIBUTION}-*.whl")) if wheels.is_dir() else []
            if done.returncode == 0 and built:
                target = out_dir / built[0].name
                shutil.move(str(built[0]), target)
                return target
            reasons.append("\n".join(done.stderr.strip().splitlines()[-5:]))
    raise BuildError("grader's wheel could not be built. Without build isolation:\n"
                     f"{reasons[0]}\nWith build isolation:\n{reasons[1]}")
