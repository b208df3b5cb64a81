"""Where a pytest run keeps its grading session: one `GradingSession` (see
grader.pytest_plugin.session) stored under a typed StashKey on the config, and the public
accessor to it, for the items, the plugin, the CLI and tests."""
from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from grader.pytest_plugin.session import GradingSession

STATE = pytest.StashKey["GradingSession"]()


def session_of(config) -> GradingSession | None:
    """The grading session of a pytest run, or None if it grades nothing."""
    return config.stash.get(STATE, None)
