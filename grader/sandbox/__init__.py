"""Running student code outside the grader's process. This package imports nothing at import
time: the child side (`grader.sandbox.child`) must load no more than it needs."""
