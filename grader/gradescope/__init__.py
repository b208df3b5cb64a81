"""Gradescope: building the autograder zip, and running it inside the container."""

IMAGE_PYTHON = "3.10"  # python3 of Gradescope's default base image (Ubuntu 22.04)
IMAGE_PLATFORM = "manylinux2014_x86_64"  # the wheels that install on that image
