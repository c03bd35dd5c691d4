"""Rows of a DataFrame as plain dicts keyed by column name (the templates' input)."""

from __future__ import annotations

from typing import Any

import pandas as pd


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """One dict per row, column name → value."""
    return [{str(k): v for k, v in row.items()} for row in frame.to_dict("records")]
