"""Figure helpers: one style, headless, and PNGs whose bytes depend only on the data."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

plt.rcParams.update({"figure.dpi": 110, "font.size": 9, "axes.grid": True, "grid.alpha": 0.3,
                     "axes.spines.top": False, "axes.spines.right": False, "legend.frameon": False})


@contextmanager
def figure(path: Path, ncols: int = 1, nrows: int = 1, size: tuple[float, float] | None = None, **kw):
    fig, axes = plt.subplots(nrows, ncols, figsize=size or (4.2 * ncols, 3.2 * nrows), squeeze=False, **kw)
    try:
        yield fig, (axes[0, 0] if ncols * nrows == 1 else axes.ravel())
        fig.tight_layout()
        # No timestamp or version in the PNG, so equal data gives equal bytes.
        fig.savefig(path, format="png", metadata={"Software": None})
    finally:
        plt.close(fig)


def curve_data(path: Path, rows: list[dict]) -> None:
    """A curve's data for `dvc plots show`: a JSON list of records (see `pipeline.stage.Curve`)."""
    from llmrepro import io

    io.write_json(path, rows)
