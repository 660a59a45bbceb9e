"""The environment for the tools the project runs (dvc, snakemake, stage commands)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from llmrepro.data.sources import MIRROR_ENV

# The project's offline copy of released files sits beside a checkout (see its README).
SHARED_MIRROR = Path("..") / "shared" / "mirror"


def tool_env(root: Path | None = None) -> dict[str, str]:
    """Stage commands say `python`: make that this interpreter, whatever PATH holds. Without
    LLMREPRO_MIRROR, serve downloads from the shared mirror beside `root` when there is one."""
    env = dict(os.environ)
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    if root is not None and not env.get(MIRROR_ENV) and (root / SHARED_MIRROR).is_dir():
        env[MIRROR_ENV] = str((root / SHARED_MIRROR).resolve())
        print(f"{MIRROR_ENV} is not set: using {env[MIRROR_ENV]}", file=sys.stderr)
    return env
