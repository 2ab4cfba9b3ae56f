"""The researcher notebook notebooks/explore_cohort.ipynb runs end to end on the demo cohort."""

from __future__ import annotations

import nbformat
import pytest

from toolkit.paths import NOTEBOOKS_DIR

NOTEBOOK = NOTEBOOKS_DIR / "explore_cohort.ipynb"
PLOT_CALLS = ("plot_profile_radar", "plot_heatmap", "plot_likert_bars", "plot_change", "plot_needs", "plot_power_interest")


def test_notebook_is_committed_clean_with_a_parameters_cell():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code), "strip outputs before committing"
    params = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1 and "db = None" in params[0].source
    source = "\n".join(c.source for c in code)
    for module in ("scoring", "stats", "stakeholders", "plots", "privacy"):
        assert f"{module}." in source, module


@pytest.mark.slow
def test_notebook_executes_on_the_demo_cohort(demo_copy, tmp_path):
    import papermill

    out = tmp_path / "explore_cohort.out.ipynb"
    papermill.execute_notebook(
        str(NOTEBOOK), str(out), parameters={"db": str(demo_copy)}, kernel_name="python3",
        progress_bar=False, cwd=str(tmp_path),
    )
    nb = nbformat.read(out, as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert injected and str(demo_copy) in injected[0].source
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    plot_cells = [c for c in nb.cells if c.cell_type == "code" and any(p in c.source for p in PLOT_CALLS)]
    assert len(images) == len(plot_cells) == len(PLOT_CALLS)
    text = "\n".join(o.get("data", {}).get("text/plain", "") + o.get("text", "") for o in outputs)
    assert "minimum group size k = 5" in text
    for column in ("alpha", "mean_diff", "kendall_w", "needs", "quadrant", "icc_2_1"):
        assert column in text, column
