"""Grading a class into an output folder: the resumable plan and the files written."""
