"""Gradescope: building the autograder zip, and running it inside the container."""

IMAGE_PYTHON = "3.10"  # python3 of Gradescope's default base image (Ubuntu 22.04)
IMAGE_PLATFORM = "manylinux2014_x86_64"  # the wheels that install on that image
ROOT = "/autograder"  # the autograder's folder in the container
# When students see a test or the autograder's output, in Gradescope's words; the defaults
VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")
HIDDEN_VISIBILITY = "after_due_date"  # of the hidden cases' tests
STDOUT_VISIBILITY = "hidden"  # of what the autograder printed
