"""Time to build and render one flowchart, averaged over 20 runs (target: < 300 ms for SVG and PNG).

    .venv/bin/python benchmarks/flowchart.py [JURISDICTION] [CHART]

The knowledge base is loaded once before timing (as in a running service); each run builds
the graph from the rules and renders it to SVG and to PNG (two Graphviz processes, plus one
for the column layout of a landscape chart, which the SVG and the PNG share).
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.flowchart.build import build_graph, default_as_of  # noqa: E402
from engine.flowchart.layout import _layouts  # noqa: E402
from engine.flowchart.render import to_png, to_svg  # noqa: E402

RUNS = 20
TARGET_MS = 300.0


def main(argv: list[str]) -> int:
    jurisdiction = argv[0] if argv else "chongqing"
    chart = argv[1] if len(argv) > 1 else "filing"
    as_of = default_as_of()
    build_graph(jurisdiction, chart, as_of)  # warm-up: knowledge base, calendar, fonts
    to_svg(build_graph(jurisdiction, chart, as_of))
    build, svg, png, total = [], [], [], []
    for _ in range(RUNS):
        _layouts.cache_clear()  # cold: every run lays its columns out again (SVG and PNG share one layout)
        t0 = time.perf_counter()
        G = build_graph(jurisdiction, chart, as_of)
        t1 = time.perf_counter()
        to_svg(G)
        t2 = time.perf_counter()
        to_png(G)
        t3 = time.perf_counter()
        build.append(t1 - t0)
        svg.append(t2 - t1)
        png.append(t3 - t2)
        total.append(t3 - t0)
    ms = lambda xs: statistics.mean(xs) * 1000  # noqa: E731
    print(f"flowchart {jurisdiction}/{chart}, {RUNS} runs (mean):")
    print(f"  build graph        {ms(build):7.1f} ms")
    print(f"  render SVG         {ms(svg):7.1f} ms")
    print(f"  render PNG         {ms(png):7.1f} ms")
    print(f"  build + SVG        {ms(build) + ms(svg):7.1f} ms")
    print(f"  build + PNG        {ms(build) + ms(png):7.1f} ms")
    print(
        f"  build + SVG + PNG  {ms(total):7.1f} ms  (target < {TARGET_MS:.0f} ms: {'met' if ms(total) < TARGET_MS else 'NOT met'})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
