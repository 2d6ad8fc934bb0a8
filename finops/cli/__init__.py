"""The `finops` command line: thin commands over the library, one module per area.

`root` holds the `main` group and the core commands; every other module adds its
area's commands to `main` when it is imported here.
"""

from finops.cli import (  # noqa: F401  (each registers its commands on main)
    allocation,
    control,
    forecast,
    pricing_import,
    reconcile,
    review,
    scale,
    simulate,
)
from finops.cli.root import main

__all__ = ["main"]
