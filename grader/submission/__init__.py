"""What a student hands in, turned into the files the sandbox runs: folders, files, archives,
packages and notebooks, under a size and link policy."""
