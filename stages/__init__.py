"""Stage declarations, one module per paper: `python -m stages.<id> <stage>` runs one stage."""

import sys

try:
    import llmrepro  # noqa: F401
except ModuleNotFoundError:
    raise SystemExit(
        f"error: {sys.executable} cannot import llmrepro. Stage commands run the `python` on PATH: activate the "
        "project's environment first (`source .venv/bin/activate`), or run through `.venv/bin/llmrepro repro`, "
        "which puts it first on PATH.") from None
