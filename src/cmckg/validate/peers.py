"""Bill-of-materials peers: a batch lacking a material every other batch of its product and
process version used (``queries/bom-peer-gaps.rq``) is a Warning.

The rule compares a batch with all the others of its group, so it runs on the store (every
batch), not on the data a run loads (an incremental run holds only the changed records and
their neighbours); its rows become results about the batches the run checks.
"""

from __future__ import annotations

from collections.abc import Iterable

from rdflib import URIRef
from rdflib.namespace import SH

from .. import queries
from ..stores import Store
from .results import Severity, ValidationResult

SHAPE = URIRef("https://w3id.org/cmckg/shapes#BillOfMaterialsPeerShape")
LABEL = "Batch made from the materials its peers used"


def peer_gaps(store: Store, batches: Iterable[URIRef] | None = None) -> list[ValidationResult]:
    """Warnings for the batches (all when ``batches`` is None) that lack a material every
    other batch of their product and process version used (at least two of them)."""
    wanted = None if batches is None else set(batches)
    results = []
    for row in queries.run(store, "bom-peer-gaps").rows:
        batch, material, _, version, peers, lot, material_name, product, version_name = row
        if not isinstance(batch, URIRef) or (wanted is not None and batch not in wanted):
            continue
        process = f", process version {version_name}" if str(version) else ""
        results.append(
            ValidationResult(
                severity=Severity.WARNING,
                focus=batch,
                path=None,
                value=material,
                shape=SHAPE,
                shape_label=LABEL,
                constraint=SH.SPARQLConstraintComponent,
                message=(
                    f"Unusual bill of materials: lot {lot} has no {material_name} lot upstream, "
                    f"which all {peers} other batches of product {product}{process} used"
                ),
            )
        )
    return results
