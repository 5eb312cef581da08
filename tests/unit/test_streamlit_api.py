"""The dashboards use no Streamlit API that is deprecated for removal: the next upgrade must not break a page."""

import ast
from pathlib import Path

DASHBOARDS = Path(__file__).resolve().parents[2] / "dashboards"
REMOVED_KEYWORDS = {"use_container_width": 'width="stretch"'}
REMOVED_MODULES = {"streamlit.components.v1": "st.html (sanitised) or st.iframe"}


def deprecated_uses() -> list[str]:
    found = []
    for path in sorted(DASHBOARDS.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        where = path.relative_to(DASHBOARDS.parent)
        for node in ast.walk(tree):
            if isinstance(node, ast.keyword) and node.arg in REMOVED_KEYWORDS:
                found.append(f"{where}:{node.value.lineno} {node.arg} -> {REMOVED_KEYWORDS[node.arg]}")
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [node.module] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
                for name in names:
                    if name in REMOVED_MODULES:
                        found.append(f"{where}:{node.lineno} {name} -> {REMOVED_MODULES[name]}")
    return found


def test_dashboards__use_no_streamlit_api_deprecated_for_removal():
    assert deprecated_uses() == []
