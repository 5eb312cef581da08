"""The analyst notebooks: committed without outputs, and each runs end to end on the demo warehouse."""

from __future__ import annotations

import nbformat
import pytest
from nbclient import NotebookClient

from tests.support.warehouse import demo_warehouse as shared_demo_warehouse

NOTEBOOKS = ["01_placement_rates.ipynb", "02_time_to_placement.ipynb", "03_inquiry_outcomes.ipynb"]


def test_notebooks__are_the_three_numbered_ones(repo_root):
    assert sorted(p.name for p in (repo_root / "notebooks").glob("*.ipynb")) == NOTEBOOKS


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook__is_committed_without_outputs(repo_root, name):
    book = nbformat.read(repo_root / "notebooks" / name, as_version=4)
    for cell in book.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{name} has outputs; clear them before committing"
            assert cell.execution_count is None, f"{name} has execution counts; clear them before committing"


def test_notebooks__open_the_warehouse_never_the_operational_database(repo_root):
    for name in NOTEBOOKS:
        source = (repo_root / "notebooks" / name).read_text()
        assert "core.warehouse.read import connect" in source
        for forbidden in ("core.db", "session_scope", "DATABASE_URL", "psycopg", "sqlalchemy"):
            assert forbidden not in source, f"{name} mentions {forbidden}"


@pytest.fixture(scope="module")
def demo_warehouse(engine):
    with shared_demo_warehouse(engine, seed=3):
        yield


@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook__runs_end_to_end_on_the_demo_warehouse(demo_warehouse, repo_root, name):
    book = nbformat.read(repo_root / "notebooks" / name, as_version=4)
    client = NotebookClient(book, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(repo_root)}})
    client.execute()  # raises CellExecutionError naming the cell on any error
    outputs = [o for cell in book.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert any(o.get("output_type") in {"execute_result", "display_data"} for o in outputs)
