#!/usr/bin/env python3
"""Review-page latency: the lot page (batch dossier) and the search page of ``cmckg serve``.

    python benchmarks/pages_bench.py --batches 10000            # about 4.5 M quads
    python benchmarks/pages_bench.py --batches 1000 --keep      # about 0.46 M quads

Generates the enterprise records (``generate.py``), ingests them into an embedded store under
``--workdir`` (reused when it is already there), then for ``--lots`` drug-product lots spread
over the sites times each page ``--repeat`` times (after one warm-up per lot), two ways:

- in process: ``ReviewSite.page`` over the embedded store (queries, assembly and rendering);
- served: ``cmckg serve`` started on the store (Oxigraph's server plus the review pages, which
  read the endpoint over HTTP) and each page fetched with urllib.

The lot page includes reading the open results the last recorded validation left (none is
recorded in the generated store, so that lookup finds nothing).

It prints the median and 90th percentile per page, and the store's size in quads. The target
(issue 13): a lot page within 300 ms at 4.5 M quads.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent))

from phases import ingest_calls, lineage_roots, lot_iri  # noqa: E402

from cmckg.kg import KnowledgeGraph  # noqa: E402
from cmckg.present.review import ReviewSite  # noqa: E402

TARGET_MS = 300.0


def build(size_dir: Path, batches: int, seed: int) -> Path:
    """The generated sources and the ingested store of ``batches`` (made once, then reused)."""
    src, store = size_dir / "src", size_dir / "store"
    if not (src / "ingest.yaml").is_file():
        subprocess.run(
            [
                sys.executable,
                str(Path(__file__).with_name("generate.py")),
                "--batches",
                str(batches),
                "--seed",
                str(seed),
                "--out",
                str(src),
            ],
            check=True,
        )
    if not (store / "CURRENT").is_file() or not (size_dir / "ingested").is_file():
        started = time.perf_counter()
        with KnowledgeGraph.open(str(store)) as kg:
            for _, paths, mapping in ingest_calls(src):
                kg.ingest(paths, mapping=mapping)
        (size_dir / "ingested").write_text("ok\n")
        print(f"ingested in {time.perf_counter() - started:.0f} s", flush=True)
    return store


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def timed(call, repeat: int, cpu: list[float] | None = None) -> list[float]:  # noqa: ANN001
    """Wall-clock ms of each call after one warm-up; with ``cpu``, also this process's CPU ms
    (in process, Oxigraph's work is this process's: on a shared, loaded machine the CPU time
    is the fairer figure, the wall time shows what a user waits)."""
    call()  # warm-up
    times = []
    for _ in range(repeat):
        started, cpu_started = time.perf_counter(), time.process_time()
        call()
        times.append((time.perf_counter() - started) * 1e3)
        if cpu is not None:
            cpu.append((time.process_time() - cpu_started) * 1e3)
    return times


def report(name: str, times: list[float]) -> None:
    median = statistics.median(times)
    verdict = "met" if median <= TARGET_MS else "MISSED"
    print(
        f"{name:<34} median {median:7.1f} ms   p90 {percentile(times, 0.9):7.1f} ms   "
        f"n = {len(times):3d}   target {TARGET_MS:.0f} ms: {verdict}",
        flush=True,
    )


def in_process(store: Path, size_dir: Path, lots: list[str], repeat: int) -> None:
    with KnowledgeGraph.open(str(store), read_only=True) as kg:
        print(f"store: {kg.store.count_quads():,} quads in its record graphs", flush=True)
        site = ReviewSite(kg)
        pages, searches, cpu = [], [], []
        for lot in lots:
            iri = str(lot_iri(kg, size_dir, lot))
            pages += timed(
                lambda i=iri: _ok(site.page(f"/lot?iri={quote(i, safe='')}")), repeat, cpu
            )
            searches += timed(lambda x=lot: _ok(site.page(f"/search?q={quote(x)}")), repeat)
        report("lot page, in process (wall)", pages)
        report("lot page, in process (CPU)", cpu)
        report("search page, in process", searches)


def _ok(answer: tuple[int, str]) -> None:
    if answer[0] != 200:
        raise SystemExit(f"page failed with HTTP {answer[0]}")


def served(store: Path, size_dir: Path, lots: list[str], repeat: int, port: int) -> None:
    log = (size_dir / "serve.log").open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from cmckg.cli import main; sys.exit(main())",
            "serve",
            "--store",
            str(store),
            "--read-only",
            "--port",
            str(port),
            "--pages-port",
            str(port + 1),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port + 1}"
    try:
        _wait(f"{base}/", 120)
        with KnowledgeGraph.open("memory:") as kg:  # only to mint the lots' IRIs
            iris = [str(lot_iri(kg, size_dir, lot)) for lot in lots]
        pages, searches = [], []
        for lot, iri in zip(lots, iris, strict=True):
            pages += timed(lambda i=iri: _get(f"{base}/lot?iri={quote(i, safe='')}"), repeat)
            searches += timed(lambda x=lot: _get(f"{base}/search?q={quote(x)}"), repeat)
        report("lot page, served (HTTP)", pages)
        report("search page, served (HTTP)", searches)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(30)
        log.close()


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=120) as response:
        if response.status != 200:
            raise SystemExit(f"{url}: HTTP {response.status}")
        return response.read()


def _wait(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            _get(url)
            return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"the review pages did not answer within {timeout:.0f} s")


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} CPUs"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--batches",
        type=int,
        default=10_000,
        help="drug-substance batches (10,000 ≈ 4.5 M quads; at least 1,000)",
    )
    parser.add_argument("--seed", type=int, default=20261127)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/cmckg-pages-bench"))
    parser.add_argument("--lots", type=int, default=5, help="drug-product lots timed")
    parser.add_argument("--repeat", type=int, default=5, help="timed calls per lot and page")
    parser.add_argument(
        "--port",
        type=int,
        default=17_900,
        help="the SPARQL port of the served run (the pages take the next one)",
    )
    parser.add_argument(
        "--skip-served", action="store_true", help="time in process only (no cmckg serve)"
    )
    args = parser.parse_args()
    if args.batches < 1000:
        parser.error("--batches must be at least 1000")
    size_dir = args.workdir / str(args.batches)
    size_dir.mkdir(parents=True, exist_ok=True)
    store = build(size_dir, args.batches, args.seed)
    lots = lineage_roots(size_dir)["backward"][: args.lots]
    print(load(), flush=True)
    in_process(store, size_dir, lots, args.repeat)
    if not args.skip_served:
        served(store, size_dir, lots, args.repeat, args.port)
    print(load(), flush=True)


if __name__ == "__main__":
    main()
