"""Ends its process without cleanup as soon as it is imported."""
import os

os._exit(0)
