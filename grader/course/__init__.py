"""The course: its model (frozen dataclasses), the TOML manifests that describe it, the trusted
reference and generator code it loads, the cases it draws, the student kit and the validator."""
