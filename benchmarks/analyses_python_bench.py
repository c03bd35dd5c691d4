"""The Python side of the analyses (issue 12): what cpv, compare and drivers do with the per-batch
values once the store has returned them, on synthetic frames sized like the generated enterprise.

``python benchmarks/analyses_python_bench.py [--sizes 1000,10000,34000] [--baseline REV]
[--repeat 5]`` builds, for N generated batches, frames shaped exactly like
``attributes.batch_values`` (one product's HMW over ~N/4 drug-substance batches; three
attributes of one product at three sites; afucosylation of every batch with the cell-culture
medium lots upstream of them) and the layer's raw-lot answers, replaces every store read of
``cmckg.cpv``, ``cmckg.comparability`` and ``cmckg.drivers`` with them, and times
``control_chart``, ``compare`` and ``drivers`` (best of ``--repeat`` calls) beside the same
modules at git revision ``--baseline`` (default: the commit before they were vectorised),
loaded from ``git archive`` as a separate package in the same process. Each pair of results is
checked equal before its figures are printed.
"""

from __future__ import annotations

import argparse
import importlib
import io
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd

import cmckg
from cmckg.attributes import VALUE_COLUMNS, Attribute

REPO = Path(__file__).resolve().parent.parent
BASELINE = "5e56d6e"  # the last commit before cpv, spc, comparability and drivers were vectorised
UNIT = "http://qudt.org/vocab/unit/PERCENT"
MOSM = "http://qudt.org/vocab/unit/MilliOSM-PER-KiloGM"
EX = "https://example.org/bench/"
SITES = ("Site-A", "Site-B", "Site-C")


def values_frame(
    label: str, n: int, rng: np.random.Generator, *, product: str = "mAb-1", prefix: str = "B"
) -> pd.DataFrame:
    """``n`` batches of one attribute as ``batch_values`` returns them: month-precision dates
    (many batches share one), three sites, two process versions, a shift at v2."""
    order = np.arange(n)
    v2 = order >= n // 2
    months = pd.Timestamp("2016-01-01") + pd.to_timedelta((order * 3650 // max(n, 1)), unit="D")
    frame = pd.DataFrame(
        {
            "attribute": label,
            "batch": [f"{EX}lot/{prefix}-{i}" for i in order],
            "identifier": [f"{prefix}-{i}" for i in order],
            "kind": "drug_substance",
            "product": product,
            "site": [SITES[i % 3] for i in order],
            "process_version": np.where(v2, "v2", "v1"),
            "date": months.to_period("M").to_timestamp(),
            "stage": "Release",
            "material": None,
            "value": 1.2 + 0.5 * v2 + rng.normal(0, 0.15, n),
            "unit": UNIT,
            "n_values": 1,
            "n_lots": 1,
        }
    )[VALUE_COLUMNS]
    return frame.sort_values(["stage", "material", "date", "identifier"], ignore_index=True)


def specs_frame() -> pd.DataFrame:
    """The latest specification of HMW for mAb-1, as ``summary.specifications`` shapes it."""
    return pd.DataFrame(
        [
            {
                "product": "mAb-1",
                "stage": "Release",
                "kind": "drug_substance",
                "lower": None,
                "upper": 3.0,
                "unit": UNIT,
                "version": "1",
                "order": 1.0,
            }
        ]
    )


def attribute(label: str) -> Attribute:
    iri = f"{EX}attribute/{label}"
    return Attribute(label, iri, iri, label)  # type: ignore[arg-type]


def raw_answers(n: int, rng: np.random.Generator) -> dict[str, pd.DataFrame]:
    """The layer's batch → raw lot pairs (medium for the seed and the production bioreactor,
    feed, two resins, cell bank per batch; a pair may repeat) and the medium lots' CoA values
    (osmolality, pH, endotoxin): a medium lot per ten batches."""
    lots = n // 10 + 2
    batches = [f"{EX}lot/B-{i}" for i in range(n)]
    codes = ("MED", "MED-seed", "FEED", "PRA", "AEX", "WCB")
    lot = {
        "MED": lambda i: f"MED-{i // 10}",
        "MED-seed": lambda i: f"MED-{(i + 5) // 10}",  # the seed's medium: often the same lot
        "FEED": lambda i: f"FEED-{i // 7}",
        "PRA": lambda i: f"PRA-{i // 50}",
        "AEX": lambda i: f"AEX-{i // 50}",
        "WCB": lambda i: f"WCB-{i // 500}",
    }
    pairs = pd.DataFrame(
        {
            "batch": np.repeat(batches, len(codes)),
            "lot": [f"{EX}lot/{lot[code](i)}" for i in range(n) for code in codes],
        }
    )
    tests = (("Osmolality", MOSM, 300.0, 9.0), ("pH", "http://qudt.org/vocab/unit/PH", 7.1, 0.05))
    rows = []
    for k in range(lots):
        for name, unit, mean, sd in (
            *tests,
            ("Endotoxin", "http://qudt.org/vocab/unit/IU-PER-MilliL", 0.2, 0.05),
        ):
            rows.append(
                {
                    "lot": f"{EX}lot/MED-{k}",
                    "measurement": f"{EX}m/MED-{k}-{name}",
                    "value": float(rng.normal(mean, sd)),
                    "unit": unit,
                    "property": f"{EX}attribute/{name}",
                    "local_term": None,
                    "material_node": f"{EX}material/medium",
                }
            )
    return {"analytics-upstream-lots": pairs, "analytics-raw-lot-values": pd.DataFrame(rows)}


def load_baseline(rev: str, into: Path) -> ModuleType:
    """The ``cmckg`` package at ``rev`` as the package ``cmckg_base`` (relative imports only)."""
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", rev, "src/cmckg"], check=True, capture_output=True
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    (into / "src" / "cmckg").rename(into / "src" / "cmckg_base")
    for name in ("ontology", "shapes", "queries", "examples"):  # resources beside src/, as here
        (into / name).symlink_to(REPO / name)
    sys.path.insert(0, str(into / "src"))
    return importlib.import_module("cmckg_base")


def patch(package: ModuleType, data: SimpleNamespace) -> None:
    """Every store read of the three analyses answers from ``data``."""
    cpv = importlib.import_module(f"{package.__name__}.cpv")
    comparability = importlib.import_module(f"{package.__name__}.comparability")
    drivers = importlib.import_module(f"{package.__name__}.drivers")
    empty_censored = pd.DataFrame({"n_values": pd.Series([], dtype=int)})
    resolve = lambda _store, name, *a: attribute(name)  # noqa: E731
    for module in (cpv, comparability, drivers):
        module.resolve_attribute = resolve
        module.batch_values = lambda _s, a, **k: data.values[a.label].copy()
    cpv.reference_nodes = drivers.reference_nodes = lambda _s: {}
    cpv.nodes_named = lambda *a: ["mAb-1"]
    cpv.specifications = lambda _s, _a: data.specs
    comparability.resolve_attributes = lambda s, names: [resolve(s, n) for n in names]
    comparability.censored_values = drivers.censored_values = lambda *a, **k: empty_censored
    drivers.resolve_material = lambda _s, _m: f"{EX}material/medium"
    drivers.material_nodes = lambda m, _names: [m]
    # the answers as the layer's queries give them: a frame (queries.to_dataframe) for the
    # baseline; tab-separated pair lines and series rows (series_rows.raw_lot_rows) since
    drivers.queries = SimpleNamespace(run=data.answer, to_dataframe=lambda answer: answer.frame)
    drivers.analytics = SimpleNamespace(
        raw_lot_rows=lambda answer: list(answer.frame.itertuples(index=False, name=None)),
        RAW_LOT_COLUMNS=tuple(data.raw["analytics-raw-lot-values"].columns),
    )


def synthetic(n: int) -> SimpleNamespace:
    rng = np.random.default_rng(20261206)
    chart = values_frame("HMW", max(n // 4, 40), rng)
    per_product = [
        values_frame(label, max(n // 4, 40), rng) for label in ("AFUC", "CHARGE", "HMW3")
    ]
    everyone = values_frame("afucosylation", n, rng)
    raw = raw_answers(n, rng)
    pair_lines = "\n".join(
        f"{b}\t{lot}" for b, lot in raw["analytics-upstream-lots"].itertuples(index=False)
    )

    def answer(_store: object, name: str, *_: object) -> SimpleNamespace:
        return SimpleNamespace(
            frame=raw[name].copy(), rows=[(pair_lines,)] if name.endswith("lots") else []
        )

    joined = (
        raw["analytics-upstream-lots"]
        .merge(raw["analytics-raw-lot-values"], on="lot")
        .drop_duplicates(ignore_index=True)
    )
    return SimpleNamespace(
        answer=answer,
        joined=joined,
        values={
            "HMW": chart,
            **{f.loc[0, "attribute"]: f for f in per_product},
            "afucosylation": everyone,
        },
        specs=specs_frame(),
        raw=raw,
    )


CALLS: dict[str, Callable[[ModuleType], Any]] = {
    "cpv": lambda m: m.cpv.control_chart(None, "HMW", "mAb-1", kind="drug_substance"),
    "cpv by site": lambda m: m.cpv.control_chart(None, "HMW", "mAb-1", by="site"),
    "compare": lambda m: m.comparability.compare(
        None, ["AFUC", "CHARGE", "HMW3"], "product=mAb-1,site=Site-A", "product=mAb-1,site=Site-B"
    ),
    "drivers": lambda m: m.drivers.drivers(None, "afucosylation", material="medium"),
    "drivers pls": lambda m: m.drivers.drivers(
        None, "afucosylation", material="medium", method="pls"
    ),
}
#: the batch × raw-attribute matrix alone, from the same joined rows in both revisions (the
#: layer's answer format changed between them: the calls above parse it, the baseline is handed
#: a frame)
MATRIX = "drivers matrix"


def frames_of(result: Any) -> list[pd.DataFrame]:
    if isinstance(result, tuple):  # _raw_matrix: matrix (its row order is not kept), labels, lots
        return [pd.DataFrame(result[1]), result[0].sort_index(), pd.DataFrame([result[2]])]
    names = ("limits", "points", "signals", "capability", "table", "values", "data")
    return [getattr(result, n) for n in names if hasattr(result, n)]


def best(call: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - started)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,34000")
    parser.add_argument("--baseline", default=BASELINE)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    for name in ("cpv", "comparability", "drivers"):
        importlib.import_module(f"cmckg.{name}")
    with tempfile.TemporaryDirectory() as tmp:
        base = load_baseline(args.baseline, Path(tmp))
        for name in ("cpv", "comparability", "drivers"):
            importlib.import_module(f"cmckg_base.{name}")
        print(
            f"{'N':>6}  {'analysis':<12} {'rows':>7} {'baseline s':>11} {'now s':>8} {'ratio':>6}"
        )
        for size in (int(s) for s in args.sizes.split(",")):
            data = synthetic(size)
            for package in (base, cmckg):
                patch(package, data)
            calls = {
                **CALLS,
                MATRIX: lambda m, d=data: m.drivers._raw_matrix(d.joined.copy(), {}),
            }
            for label, call in calls.items():
                call(base), call(cmckg)  # warm: term schemes, imports
                before, old = best(lambda c=call: c(base), args.repeat)
                after, new = best(lambda c=call: c(cmckg), args.repeat)
                for a, b in zip(frames_of(old), frames_of(new), strict=True):
                    pd.testing.assert_frame_equal(a, b, check_exact=True)
                rows = len(frames_of(new)[1])
                print(
                    f"{size:>6}  {label:<12} {rows:>7} {before:>11.3f} {after:>8.3f} "
                    f"{before / after:>6.1f}"
                )


if __name__ == "__main__":
    main()
