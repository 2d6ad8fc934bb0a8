"""The `finops` command line: thin commands over the library, one module per area.

`group.main` knows every command by name and imports a command's module only when it runs
(see `finops/cli/group.py`), so `finops --help` and every command start fast.
"""

from finops.cli.group import main

__all__ = ["main"]
