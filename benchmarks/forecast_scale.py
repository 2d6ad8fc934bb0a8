"""Forecast throughput: many daily spend series at once, in parallel (target: 1,000
series of 730 days in <= 60 s on 2 cores, memory flat).

Synthetic spend-like series (weekly cycle, growth, a migration level shift, spikes,
idle days, scales from cents to thousands of dollars) go through
``finops.analysis.forecast.api.forecast_frame`` with the default method ("auto": rolling-origin
backtest of three candidates and calibrated intervals per series).

Run: ``.venv/bin/python benchmarks/forecast_scale.py`` (1,000 series, 2 workers), or
``--sweep`` to run 250, 500 and 1,000 series in fresh processes and show that peak
memory does not grow with the number of series. Prints wall time, series per second
peak resident memory of the main process and of the largest worker, and the CPU
seconds used by all processes (wall time on a busy machine overstates the cost; CPU
seconds / 2 is what two idle cores would need, plus worker start-up).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import polars as pl

from finops.analysis.forecast.api import forecast_frame

START = datetime.date(2024, 1, 1)


def spend_frame(n_series: int, days: int, seed: int = 0) -> pl.DataFrame:
    """Long frame (series_id, day, cost_usd) of ``n_series`` synthetic spend series."""
    rng = np.random.default_rng(seed)
    t = np.arange(days)
    ids, values = [], []
    for i in range(n_series):
        scale = 10 ** rng.uniform(-1, 3.5)
        weekly = 1 + rng.uniform(0, 0.6) * np.where(t % 7 >= 5, -1.0, 0.3)
        growth = 1 + rng.uniform(-0.3, 1.5) * t / days
        level = scale * weekly * growth
        if rng.random() < 0.3:  # a migration moved spend up or down at some point
            level[rng.integers(days // 2, days - 14) :] *= rng.uniform(0.4, 2.0)
        y = level * rng.lognormal(0, rng.uniform(0.05, 0.4), days)
        spikes = rng.random(days) < 0.005
        y[spikes] *= rng.uniform(3, 20, spikes.sum())
        if rng.random() < 0.2:  # a sparse workload: idle on some days
            y[rng.random(days) < 0.3] = 0.0
        ids.append(np.full(days, i, dtype=np.int32))
        values.append(y)
    day = pl.Series(np.tile(np.arange(days, dtype=np.int32), n_series)).cast(pl.Date)
    offset = (START - datetime.date(1970, 1, 1)).days
    return pl.DataFrame(
        {
            "series_id": np.concatenate(ids),
            "day": (day.cast(pl.Int32) + offset).cast(pl.Date),
            "cost_usd": np.concatenate(values),
        }
    )


def _status_mb(pid: int | str, field: str) -> float:
    """A memory field (VmRSS, VmHWM) of /proc/<pid>/status in MB; 0 if it is gone."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return 0.0
    return 0.0


def _children() -> list[str]:
    pids = []
    for task in Path("/proc/self/task").iterdir():
        with contextlib.suppress(OSError):
            pids += (task / "children").read_text().split()
    return pids


class _WorkerMemory(threading.Thread):
    """Samples the resident memory of this process's children (the workers).

    rusage cannot tell: a spawned worker's max RSS includes the parent's pages it
    shared between fork and exec.
    """

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak_mb = 0.0
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.wait(0.1):
            for pid in _children():
                self.peak_mb = max(self.peak_mb, _status_mb(pid, "VmRSS"))

    def stop(self) -> float:
        self._done.set()
        self.join()
        return self.peak_mb


def _cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    workers = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + workers.ru_utime + workers.ru_stime


def run(n_series: int, days: int, workers: int) -> dict[str, float]:
    frame = spend_frame(n_series, days)
    cpu_before = _cpu_seconds()
    monitor = _WorkerMemory()
    monitor.start()
    began = time.perf_counter()
    out = forecast_frame(frame, keys=["series_id"], value_col="cost_usd", workers=workers)
    elapsed = time.perf_counter() - began
    worker_peak = monitor.stop()
    assert out.height == n_series * 28
    return {
        "series": n_series,
        "seconds": elapsed,
        "cpu_seconds": _cpu_seconds() - cpu_before,
        "series_per_s": n_series / elapsed,
        "main_rss_mb": _status_mb("self", "VmHWM"),
        "worker_rss_mb": worker_peak,
        "methods": dict(out.group_by("method").len().iter_rows()),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=1000)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--sweep", action="store_true", help="250, 500, 1000 series")
    opts = parser.parse_args(argv)
    if opts.sweep:
        for n in (250, 500, 1000):
            cmd = [
                sys.executable,
                __file__,
                "--series",
                str(n),
                "--days",
                str(opts.days),
                "--workers",
                str(opts.workers),
            ]
            subprocess.run(cmd, check=True)
        return 0
    load = os.getloadavg()[0]
    res = run(opts.series, opts.days, opts.workers)
    per_method = ", ".join(f"{k}: {v // 28}" for k, v in sorted(res["methods"].items()))
    print(
        f"{res['series']} series x {opts.days} days, {opts.workers} workers: "
        f"{res['seconds']:.1f} s ({res['series_per_s']:.1f} series/s); peak RSS main "
        f"{res['main_rss_mb']:.0f} MB, largest worker {res['worker_rss_mb']:.0f} MB; "
        f"CPU {res['cpu_seconds']:.1f} s in all processes; load average before {load:.1f} "
        f"(other work on the machine slows the wall time); methods: {per_method}"
    )
    return 0 if res["seconds"] <= 60 or opts.series != 1000 else 1


if __name__ == "__main__":
    sys.exit(main())
