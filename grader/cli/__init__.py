"""The `grader` command: thin click commands over keyword-only functions."""
