"""The analytics pages' filter: one row of buttons that picks what a table or chart is broken down by."""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from dashboards.i18n import t


def show(*, label: str, options: Sequence[str], default: str, names: str, key: str) -> str:
    """Draw the choice and return it; ``default`` when nothing is picked (a click on the picked button clears it).

    ``label`` is the catalogue key of the caption, ``names`` the prefix of each option's key: e.g.
    ``show(label="analytics.bottleneck.dimension", options=["region3", "procedure"], default="region3",
    names="analytics.bottleneck", key="dimension")`` names "region3" by ``analytics.bottleneck.region3``.
    """
    chosen = st.segmented_control(
        t(label), list(options), default=default, format_func=lambda option: t(f"{names}.{option}"), key=key
    )
    return chosen or default
