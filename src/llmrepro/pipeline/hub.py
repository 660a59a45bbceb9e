"""Hub references in a stage's params (full scale): access checked before any compute, and the
commit each pin resolved to recorded in provenance.

A gated repository (Llama 2, Gemma) refuses a client whose account has not accepted its licence,
and `from_pretrained` says so only once the stage is running, after its upstream stages. The hub
answers `auth_check` in one request, so `llmrepro run` asks it for every stage it will run, and
each stage asks again before it computes (a direct `dvc repro` or `snakemake`). Offline
(HF_HUB_OFFLINE or LLMREPRO_OFFLINE) only the cache can serve, and nothing is asked.

A checkpoint branch (`step143000`) is a name that can be moved, so the commit it named when the
files were downloaded is read from the hub cache (`refs/<branch>`) after the stage and recorded.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

if TYPE_CHECKING:
    from llmrepro.data.config import HubRef

COMMIT = re.compile(r"[0-9a-f]{40}")


def refs(sections: Mapping[str, BaseModel], keys: Iterable[str]) -> dict[str, HubRef]:
    """Every hub reference under the given params keys, by its full key (`cherryq.tiny.model.hub`)."""
    from llmrepro.data.config import HubRef  # data.config imports the pipeline package

    out: dict[str, HubRef] = {}

    def walk(key: str, v: Any) -> None:
        if isinstance(v, HubRef):
            out[key] = v
        elif isinstance(v, BaseModel):
            for f in type(v).model_fields:
                walk(f"{key}.{f}", getattr(v, f))
        elif isinstance(v, (list, tuple)):
            for i, x in enumerate(v):
                walk(f"{key}.{i}", x)
        elif isinstance(v, dict):
            for k, x in v.items():
                walk(f"{key}.{k}", x)

    for key in keys:
        head, *rest = key.split(".")
        v: Any = sections.get(head)
        for part in rest:
            v = getattr(v, part, None) if isinstance(v, BaseModel) else None
        walk(key, v)
    return out


def repo_type(ref: HubRef) -> str:
    from llmrepro.data.config import HubDataset

    return "dataset" if isinstance(ref, HubDataset) else "model"


def url(ref: HubRef) -> str:
    return f"https://huggingface.co/{'datasets/' if repo_type(ref) == 'dataset' else ''}{ref.id}"


def offline() -> bool:
    return any(os.environ.get(v, "") not in ("", "0") for v in ("HF_HUB_OFFLINE", "LLMREPRO_OFFLINE"))


def access_problems(found: Mapping[str, HubRef]) -> list[str]:
    """One line per reference this machine cannot download, saying what to do; [] offline."""
    if not found or offline():
        return []
    import huggingface_hub as hf
    from huggingface_hub.errors import GatedRepoError, RepositoryNotFoundError

    token = hf.get_token()
    problems = []
    for key in sorted(found, key=lambda k: found[k].id):
        ref = found[key]
        try:
            hf.auth_check(ref.id, repo_type=repo_type(ref), token=token)
        except GatedRepoError:
            who = "no token is set" if token is None else "the token set has no access to it"
            problems.append(f"{key}: {ref.id} is gated on the hub and {who}: accept its licence at {url(ref)} "
                            f"with your account, then set HF_TOKEN to a read token of that account")
        except RepositoryNotFoundError:
            problems.append(f"{key}: {ref.id} is not on the hub or is private ({url(ref)}); check the id"
                            + ("" if token else ", or set HF_TOKEN if it is private"))
        except OSError as e:  # no answer (network, server): the download will say what it meets
            logging.getLogger(__name__).warning("could not ask the hub about %s (%s): %s", ref.id, key, e)
    return problems


def resolved(found: Mapping[str, HubRef], cache: Path | None = None) -> dict[str, dict[str, Any]]:
    """{key: {id, revision, repo_type, commit}}: the commit the revision named in the hub cache, None
    where the cache does not hold it."""
    if cache is None:
        from huggingface_hub import constants

        cache = Path(constants.HF_HUB_CACHE)
    from huggingface_hub.file_download import repo_folder_name

    out = {}
    for key, ref in found.items():
        folder = cache / repo_folder_name(repo_id=ref.id, repo_type=repo_type(ref))
        if COMMIT.fullmatch(ref.revision):
            commit = ref.revision if (folder / "snapshots" / ref.revision).is_dir() else None
        else:
            f = folder / "refs" / ref.revision
            commit = f.read_text().strip() if f.is_file() else None
        out[key] = {"id": ref.id, "revision": ref.revision, "repo_type": repo_type(ref), "commit": commit}
    return out
