"""The pytest adapter of the engine (`pytest --submission PATH`)."""
