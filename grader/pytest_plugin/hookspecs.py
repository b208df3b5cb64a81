"""Hooks `grader` offers to other pytest plugins."""
import pytest


class GraderHookSpecs:
    @pytest.hookspec
    def pytest_grader_submission_graded(self, result, config):
        """Called with each student's `SubmissionResult` once all its problems have run,
        before any file is written; a plugin may adjust the result in place (for example
        late penalties). A case's `picture` and `answer` may be shared with the results of
        other students who gave the same answer: replace them, never change them in place.
        Every implementation is called."""
