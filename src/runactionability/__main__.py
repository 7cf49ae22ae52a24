"""``python -m runactionability``: the console script, where it is not on the ``PATH``.

It goes through ``runactionability.console`` as the script does, so a missing ``cli`` extra is one
line saying what to install (``python -m runactionability.cli`` imports click first and cannot).
"""

from runactionability.console import main

if __name__ == "__main__":
    main()
