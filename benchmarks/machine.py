"""Was the machine quiet while a benchmark ran? Load average, CPU steal and other processes' CPU.

Used by benchmarks/decide.py, load.py and batch.py (not a benchmark itself). A run starts a
`Watch` before its work and reads it after: the load average at both ends, the share of the
machine's CPU time the hypervisor stole (/proc/stat `steal`), and how many cores' worth of CPU
processes other than the benchmark's own used meanwhile (/proc/stat user + nice + system, less
the CPU of the processes the benchmark names as its own). A run is flagged "busy" when steal is
above 2 % or the others kept more than a given share of a core busy: its times are then upper
bounds, and ratios measured inside it (each figure beside a reference timed in the same
process, interleaved) are what to compare.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

TICK = os.sysconf("SC_CLK_TCK")
STEAL_BUSY = 2.0  # percent of the machine's CPU time


def loadavg() -> tuple[float, float, float]:
    try:
        return os.getloadavg()
    except OSError:
        return (math.nan, math.nan, math.nan)


def proc_stat() -> dict[str, float]:
    """The machine's CPU seconds so far, all cores (/proc/stat's first line; empty where there is none)."""
    try:
        with open("/proc/stat") as fh:
            fields = [int(x) for x in fh.readline().split()[1:]]
    except (OSError, ValueError):
        return {}
    names = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal")
    out = {name: (fields[i] if i < len(fields) else 0) / TICK for i, name in enumerate(names)}
    out["total"] = sum(out[name] for name in names)  # guest time is counted in user already
    out["busy"] = out["user"] + out["nice"] + out["system"]
    return out


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of one process so far (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK
    except (OSError, IndexError, ValueError):
        return 0.0


def own_share_of_loadavg(cores: float, seconds: float) -> float:
    """What a constant `cores` of runnable threads for `seconds` adds to the 1-minute load average
    (an exponential average with a 60 s time constant, sampled every 5 s by the kernel)."""
    return cores * (1 - math.exp(-seconds / 60.0))


@dataclass
class Verdict:
    load_start: tuple[float, float, float]
    load_end: tuple[float, float, float]
    seconds: float
    steal_pct: float  # of all the machine's CPU time over the run
    others_cores: float  # cores' worth of CPU used by processes other than the benchmark's own
    own_cores: float  # the benchmark's own processes, cores' worth
    others_load: float  # the 1-minute load average at the end less what the benchmark's own threads explain
    others_limit: float
    reasons: list[str] = field(default_factory=list)

    @property
    def busy(self) -> bool:
        return bool(self.reasons)

    def line(self) -> str:
        """One line for the report: load averages, steal, others' CPU and the verdict."""
        s, e = self.load_start, self.load_end
        verdict = f"BUSY ({'; '.join(self.reasons)})" if self.busy else "quiet"
        return (
            f"load average {s[0]:.2f} {s[1]:.2f} {s[2]:.2f} at the start, {e[0]:.2f} {e[1]:.2f} {e[2]:.2f} at the end; "
            f"CPU steal {self.steal_pct:.1f} %; other processes {self.others_cores:.2f} cores "
            f"(this run {self.own_cores:.2f}) over {self.seconds:.0f} s; "
            f"load average not due to this run {self.others_load:.2f}: {verdict}"
        )


def judge(
    load_start: tuple[float, float, float],
    load_end: tuple[float, float, float],
    stat_start: dict[str, float],
    stat_end: dict[str, float],
    own_cpu: float,
    seconds: float,
    others_limit: float = 0.5,
    others_load_limit: float | None = 0.5,
) -> Verdict:
    """The verdict on a run from its two snapshots. `own_cpu`: CPU seconds of the benchmark's own
    processes over the run. Busy when steal > 2 % of the machine's CPU time, when the others used
    more than `others_limit` cores on average, or (`others_load_limit`) when the 1-minute load
    average at the end exceeds what the run's own threads explain by more than that."""
    seconds = max(seconds, 1e-9)
    d = {k: stat_end.get(k, 0.0) - stat_start.get(k, 0.0) for k in stat_end}
    total = d.get("total", 0.0)
    steal = 100.0 * d.get("steal", 0.0) / total if total > 0 else 0.0
    own_cores = own_cpu / seconds
    others = max(0.0, d.get("busy", 0.0) - own_cpu) / seconds if stat_end else 0.0
    others_load = others_in_loadavg(load_start[0], load_end[0], own_cores, seconds)
    v = Verdict(load_start, load_end, seconds, steal, others, own_cores, others_load, others_limit)
    if steal > STEAL_BUSY:
        v.reasons.append(f"steal {steal:.1f} % > {STEAL_BUSY:.0f} %")
    if others > others_limit:
        v.reasons.append(f"other processes used {others:.2f} cores > {others_limit:g}")
    if others_load_limit is not None and others_load > others_load_limit:
        v.reasons.append(f"load average not due to this run {others_load:.2f} > {others_load_limit:g}")
    return v


def others_in_loadavg(start: float, end: float, own_cores: float, seconds: float) -> float:
    """The mean number of runnable threads not the run's own, from the 1-minute load average at
    the start and end of the run: the kernel's average moves towards the mean run queue by
    1 - exp(-t/60) over t seconds, so mean = (end - start * exp(-t/60)) / (1 - exp(-t/60)).
    Runs shorter than 20 s move it too little to invert: then the end value less the run's own share."""
    if math.isnan(start) or math.isnan(end):
        return 0.0
    decay = math.exp(-seconds / 60.0)
    if seconds < 20:
        return max(0.0, end - own_share_of_loadavg(own_cores, seconds))
    return max(0.0, (end - start * decay) / (1 - decay) - own_cores)


class Watch:
    """Snapshots at the start and end of a run. `own` gives the CPU seconds so far of the run's own
    processes (default: this process, every thread)."""

    def __init__(self, own: Callable[[], float] | None = None):
        self.own = own or time.process_time
        self.start()

    def start(self) -> None:
        self.load0, self.stat0, self.own0, self.t0 = loadavg(), proc_stat(), self.own(), time.monotonic()

    def stop(self, others_limit: float = 0.5, others_load_limit: float | None = 0.5) -> Verdict:
        return judge(
            self.load0,
            loadavg(),
            self.stat0,
            proc_stat(),
            self.own() - self.own0,
            time.monotonic() - self.t0,
            others_limit,
            others_load_limit,
        )
