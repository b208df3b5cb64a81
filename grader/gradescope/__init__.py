"""Gradescope: building the autograder zip, and running it inside the container."""
