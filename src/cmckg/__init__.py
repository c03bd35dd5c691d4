"""cmckg: a knowledge graph for biopharmaceutical CMC data."""

from __future__ import annotations

__version__ = "0.1.0"

from .kg import KnowledgeGraph  # noqa: E402

__all__ = ["KnowledgeGraph", "__version__"]
