"""The course: its model (frozen dataclasses), the TOML manifests that describe it, the trusted
reference and generator code it loads, the cases it draws, the student kit and the validator."""

PROBLEMS_DIR = "problems"  # where a course's manifests are, by default (from where grader runs)
REFERENCE_DIR = "reference"  # and its reference solutions
