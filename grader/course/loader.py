"""Loading the course's trusted code into the grader's process: the reference (a module, or a
package whose modules are imported with it), generators, drivers and checks. Each is loaded
under a private name, so it never collides with a student's module of the same name, and a
failure to import is reported against the manifest key that named the file.
"""
from __future__ import annotations

import importlib.util
import inspect
import sys
from pathlib import Path
from types import ModuleType


class LoadError(Exception):
    """The course's own code could not be loaded; the message says why."""


def load_module(path: Path, name: str) -> ModuleType:
    """A course file (`x.py`) or package (a folder with `__init__.py`) loaded as `name`."""
    path = Path(path)
    package = path.is_dir()
    init = path / "__init__.py" if package else path
    if not init.is_file():
        raise LoadError(f"{path} does not exist" if not path.exists() else
                        f"{path} is a folder without __init__.py")
    spec = importlib.util.spec_from_file_location(
        name, init, submodule_search_locations=[str(path)] if package else None)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # a package's relative imports look itself up there
    try:
        spec.loader.exec_module(module)
        if package:
            for child in sorted(path.glob("*.py")):
                if child.stem != "__init__":
                    setattr(module, child.stem,
                            importlib.import_module(f"{name}.{child.stem}"))
    except Exception as exc:  # the course's own code failed to import
        for loaded in [n for n in sys.modules if n == name or n.startswith(name + ".")]:
            del sys.modules[loaded]
        raise LoadError(f"{path} failed to import: {type(exc).__name__}: {exc}") from None
    return module


def functions(module: ModuleType | None) -> set[str] | None:
    """The names of the functions a module defines (None for no module)."""
    if module is None:
        return None
    return {name for name, obj in vars(module).items() if inspect.isfunction(obj)}


def module_functions(module: ModuleType, submodule: str | None) -> set[str]:
    """Functions of a module, or of one module of a package."""
    target = getattr(module, submodule, None) if submodule else module
    return functions(target) if isinstance(target, ModuleType) else set()

