"""Run every benchmark script in this folder, one after another, printing their reports.

python benchmarks/run_all.py            # what `make bench` runs
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = sorted(
    p for p in HERE.glob("*.py") if p.name not in {"run_all.py"} and not p.name.startswith("_")
)

if __name__ == "__main__":
    failed = []
    for script in SCRIPTS:
        print(f"\n=== {script.name}", flush=True)
        if subprocess.call([sys.executable, str(script)]) != 0:
            failed.append(script.name)
    if failed:
        print(f"failed: {', '.join(failed)}")
        sys.exit(1)
