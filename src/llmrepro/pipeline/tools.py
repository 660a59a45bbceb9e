"""The environment for the tools the project runs (dvc, snakemake, stage commands)."""

from __future__ import annotations

import json
import os
import subprocess
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
    env["PYTHONHASHSEED"] = "0"  # what a stage would otherwise re-exec itself for (Paper.main): one start less
    if root is not None and not env.get(MIRROR_ENV) and (root / SHARED_MIRROR).is_dir():
        env[MIRROR_ENV] = str((root / SHARED_MIRROR).resolve())
        print(f"{MIRROR_ENV} is not set: using {env[MIRROR_ENV]}", file=sys.stderr)
    return env


def dvc_stale(root: Path, targets: list[str], env: dict[str, str]) -> list[str]:
    """Stages `dvc status` says must rerun, leaving out those that are only "always changed" (they read
    the machine, and their unchanged output reruns nothing). DVC sees a code edit only at the code
    check, until it has rerun; the stages whose code stamps the edit changes are named too."""
    from llmrepro.pipeline.codedeps import stale_stamps
    from llmrepro.pipeline.stage import CODE_CHECK

    asked = [*targets, CODE_CHECK] if targets and CODE_CHECK not in targets else targets
    r = subprocess.run(["dvc", "status", "--json", *asked], cwd=root, env=env, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"`dvc status` failed: {r.stderr.strip()[-800:]}")
    stale = {k for k, v in json.loads(r.stdout or "{}").items() if v != ["always changed"]}
    if CODE_CHECK in stale:
        stale |= {s for s in stale_stamps(root) if not targets or s in targets}
        if targets and CODE_CHECK not in targets:
            stale.discard(CODE_CHECK)
    return sorted(stale)
