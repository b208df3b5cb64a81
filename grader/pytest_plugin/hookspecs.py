"""Hooks `grader` offers to other pytest plugins."""
import pytest


class GraderHookSpecs:
    @pytest.hookspec
    def pytest_grader_submission_graded(self, result, config):
        """Called with each student's `SubmissionResult` once all its problems have run,
        before any file is written; a plugin may adjust the result in place (for example
        late penalties). Every implementation is called."""
