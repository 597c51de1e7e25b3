"""``make bench``: what syncer costs as the number of flows and environments grows.

Runs every scenario against local reference tenants over real HTTP on 127.0.0.1 (one process per tenant),
with flows from the seeded generator, and writes ``bench/results.md``. Each scenario is measured in a
fresh Python process (so its peak RSS is its own), next to its *floor*: the unavoidable work done with the
bare libraries (``bench/floors.py``). Nothing here asserts a time; the table says which targets are met.

    python bench/run.py                      # the full run (1,000 flows x 50 steps, 3 targets)
    python bench/run.py --flows 100 --only noop --repeat 1
    python bench/run.py --profile            # also writes cProfile output to bench/work/profiles/

Generated repositories and seeded tenant databases are cached under ``bench/work/`` by seed and size.
The modules: ``landscape`` (the cached data), ``stage`` (one run's tenants and moves), ``scenarios``,
``measure`` (one run in a fresh process), ``floors``, ``report``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
if str(PROJECT) not in sys.path:
    sys.path.append(str(PROJECT))  # after PYTHONPATH, so that --syncer-from wins

from bench import landscape, stage  # noqa: E402
from bench.landscape import Size  # noqa: E402
from bench.measure import WORK, child  # noqa: E402
from bench.report import report  # noqa: E402
from bench.scenarios import SCENARIOS, Bench, warm  # noqa: E402

RESULTS = PROJECT / "bench" / "results.md"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--flows", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--big-steps", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each repeatable scenario")
    parser.add_argument("--only", action="append", choices=list(SCENARIOS), default=[])
    parser.add_argument("--profile", action="store_true", help="cProfile into bench/work/profiles")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--cache", type=Path, help="reuse this parse cache (development only)")
    parser.add_argument(
        "--syncer-from",
        type=Path,
        help="run syncer from this folder (to compare with an older one)",
    )
    args = parser.parse_args(argv)
    if args.child:
        child(json.loads(args.child))
        return 0
    started = time.perf_counter()
    size = Size(args.flows, args.steps, args.big_steps, args.seed)
    data = landscape.prepare(WORK, size)
    here = stage.stage(WORK, data)
    with stage.serving(here):
        bench = Bench(here, args)
        if args.cache:
            bench.env["SYNCER_CACHE_DIR"] = str(args.cache.resolve())
        if args.syncer_from:
            bench.env["PYTHONPATH"] = str(args.syncer_from.resolve())
        chosen = [name for name in SCENARIOS if not args.only or name in args.only]
        if "export" not in chosen:
            warm(bench)
        for name in chosen:
            SCENARIOS[name](bench)
    text = report(bench, size, time.perf_counter() - started)
    if args.only:
        args.out = WORK / "results-partial.md" if args.out == RESULTS else args.out
    args.out.write_text(text, "utf-8")
    print(
        f"wrote {args.out.relative_to(PROJECT) if args.out.is_relative_to(PROJECT) else args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
