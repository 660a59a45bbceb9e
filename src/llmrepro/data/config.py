"""Schemas for data params: pinned sources and corpus splits. Schema only: importing
this module pulls in nothing that computes, so a stage that merely validates params
does not depend on the download or preparation code."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from llmrepro.pipeline.params import Section


def _sha40(v: str) -> str:
    if len(v) != 40 or any(c not in "0123456789abcdef" for c in v):
        raise ValueError("must be a full 40-character lowercase hex commit id")
    return v


class PypiSource(Section):
    kind: Literal["pypi"] = "pypi"
    package: str
    version: str
    filename: str
    sha256: str | None = None  # None: record the hash, verify nothing (fixtures)


class GithubSource(Section):
    kind: Literal["github"] = "github"
    repo: str  # owner/name
    commit: str

    @field_validator("commit")
    @classmethod
    def _commit(cls, v: str) -> str:
        return _sha40(v)


class HubRef(Section):
    """A model or dataset on the HF hub at a pinned revision (full scale)."""

    id: str
    revision: str

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if v.count("/") != 1 or not all(v.split("/")):
            raise ValueError("must be 'owner/name'")
        return v

    @field_validator("revision")
    @classmethod
    def _rev(cls, v: str) -> str:
        # A commit id, or a checkpoint branch that never moves (e.g. OLMo's step1000-tokens4B).
        if v in ("main", "master", "") or v.startswith("refs/heads/main"):
            raise ValueError("must be pinned: a 40-hex commit id or an immutable checkpoint branch, not a moving branch")
        return v


class HubDataset(HubRef):
    config: str | None = None
    data_files: str | None = None  # one shard of a large dataset (C4), as the papers' code loads it
    split: str = "test"
    text_field: str = "text"
    max_rows: int | None = Field(None, ge=1)


class SplitSpec(Section):
    valid: float = Field(0.05, gt=0, lt=0.5)
    test: float = Field(0.05, gt=0, lt=0.5)
    seed: int = Field(0, ge=0)
    block_lines: int = Field(200, ge=1)  # KJV: consecutive lines per document
