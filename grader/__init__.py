"""grader: an autograder for numerical homework."""
__version__ = "0.1.0"
