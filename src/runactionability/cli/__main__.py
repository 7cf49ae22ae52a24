"""``python -m runactionability.cli``: the console script, for an environment without it."""

from runactionability.cli import main

main()
