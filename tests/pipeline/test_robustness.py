"""Bad input and outside edits, tried as a new user would: each gets one clear error before any
compute, through `llmrepro` and through a plain `dvc repro`, and nothing computed is lost."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
import yaml

from llmrepro import io

from conftest import copy_project, offline_env, run, running_stages

pytestmark = pytest.mark.slow

CHEAP = ["attngrad_training", "attngrad_error_vs_b", "facts_world"]  # seconds at smoke scale, no upstream


@pytest.fixture(scope="module")
def ws(tmp_path_factory, mirror):
    ws = copy_project(tmp_path_factory.mktemp("robust"))
    run(["dvc", "repro", *CHEAP], ws, **offline_env(mirror))
    return ws


def _outputs(ws: Path) -> dict[str, str]:
    files = [p for d in ("data", "reports") for p in (ws / d).rglob("*") if p.is_file()]
    return {str(p.relative_to(ws)): io.file_hash(p) for p in sorted(files)}


@pytest.fixture
def workspace(ws):
    """The module's workspace; params.yaml is restored after each test, and the outputs (by
    `dvc checkout`, a few seconds) where the test changed them."""
    saved, outputs = (ws / "params.yaml").read_bytes(), _outputs(ws)
    yield ws
    (ws / "params.yaml").write_bytes(saved)
    if _outputs(ws) != outputs:
        run(["dvc", "checkout", "-f", "-q"], ws, check=False)


def _edit(ws: Path, edit) -> None:
    data = yaml.safe_load((ws / "params.yaml").read_text())
    edit(data)
    (ws / "params.yaml").write_text(yaml.safe_dump(data, sort_keys=False))


def _set(key: str, value):
    def edit(data):
        node = data
        *head, last = key.split(".")
        for k in head:
            node = node[k]
        node[last] = value
    return edit


def _drop(key: str):
    def edit(data):
        node = data
        *head, last = key.split(".")
        for k in head:
            node = node[k]
        del node[last]
    return edit


# (edit, text the one error line must contain)
BAD = {
    "wrong type": (_set("attngrad.training.steps", "ten"), "attngrad.training.steps = 'ten' (a string)"),
    "out of range": (_set("attngrad.training.steps", -5), "attngrad.training.steps = -5"),
    "zero learning rate": (_set("common.tinylm.train.lr", 0.0), "common.tinylm.train.lr = 0.0"),
    "unknown key": (_set("attngrad.sead", 1), "attngrad.sead: unknown key"),
    "unknown section": (_set("foo", {"a": 1}), "foo: unknown section"),
    "empty section": (_set("attngrad", {}), "attngrad.training: required key is missing"),
    "empty list": (_set("attngrad.runtime.ns", []), "attngrad.runtime.ns = []"),
    "missing key": (_drop("attngrad.training.n"), "attngrad.training.n: required key is missing (scale smoke)"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_params_fail_before_compute_and_lose_nothing(workspace, mirror, case):
    edit, message = BAD[case]
    before = _outputs(workspace)
    _edit(workspace, edit)
    # --dry: were the params wrongly accepted, DVC would only print its plan, not build the suite
    r = run([sys.executable, "-m", "llmrepro.cli", "repro", "--dry"], workspace, check=False, **offline_env(mirror))
    assert r.returncode == 2 and message in r.stderr, r.stderr[-2000:]
    assert running_stages(r.stdout) == []
    r = run(["dvc", "repro", *CHEAP], workspace, check=False, **offline_env(mirror))
    out = r.stdout + r.stderr
    # DVC itself refuses a declared param that the file lacks, naming the params; otherwise the runner does
    assert r.returncode != 0 and (message in out or "are missing from 'params.yaml'" in out), out[-2000:]
    assert running_stages(r.stdout) in ([], ["report_params"])
    assert _outputs(workspace) == before


def test_non_utf8_params_get_one_line_naming_the_file_and_offset(workspace, mirror):
    before = _outputs(workspace)
    text = (workspace / "params.yaml").read_bytes()
    (workspace / "params.yaml").write_bytes(text[:100] + b"\xff\xfe" + text[100:])
    r = run([sys.executable, "-m", "llmrepro.cli", "check"], workspace, check=False)
    assert r.returncode == 2 and "params.yaml: not UTF-8 text: byte 0xff at offset 100" in r.stderr
    assert "Traceback" not in r.stderr
    r = run(["dvc", "repro", *CHEAP], workspace, check=False, **offline_env(mirror))
    assert r.returncode != 0 and "is not valid utf-8" in r.stdout + r.stderr  # DVC's own message names it too
    assert _outputs(workspace) == before


def test_a_same_size_edit_with_its_mtime_restored_is_caught_before_compute(workspace, mirror):
    path = workspace / "data/facts/world/world0/world.json"
    # DVC has hashed the output once (and keeps the hash by inode, mtime and size)
    assert json.loads(run(["dvc", "status", "--json", "facts_world"], workspace).stdout) == {}
    original = path.read_bytes()
    st = path.stat()
    tampered = original.replace(b"1", b"2", 1)
    assert len(tampered) == len(original) and tampered != original
    path.write_bytes(tampered)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    try:
        assert json.loads(run(["dvc", "status", "--json", "facts_world"], workspace).stdout) == {}  # DVC misses it
        r = run(["dvc", "repro", "-s", "facts_pretrain_base"], workspace, check=False, **offline_env(mirror))
        assert r.returncode != 0
        assert ("data/facts/world/world0/world.json is not what stage 'facts_world' wrote"
                in r.stdout + r.stderr), (r.stdout + r.stderr)[-2000:]
        assert not (workspace / "models/facts/base").exists()
    finally:
        path.write_bytes(original)
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def test_scale_keeps_a_hand_edited_params_file_unless_forced(workspace):
    _edit(workspace, _set("attngrad.training.steps", 4))
    r = run([sys.executable, "-m", "llmrepro.cli", "scale", "smoke"], workspace, check=False)
    assert r.returncode == 2 and "has hand edits" in r.stderr
    assert yaml.safe_load((workspace / "params.yaml").read_text())["attngrad"]["training"]["steps"] == 4
    run([sys.executable, "-m", "llmrepro.cli", "scale", "smoke", "--force"], workspace)
    assert yaml.safe_load((workspace / "params.yaml.bak").read_text())["attngrad"]["training"]["steps"] == 4


def test_stage_logs_are_kept(workspace):
    log = (workspace / "logs" / "attngrad_training.log").read_text()
    assert "attngrad_training: running" in log and "done in" in log


def test_snakemake_reruns_what_dvc_calls_stale_and_records_only_what_it_ran(workspace, mirror, monkeypatch,
                                                                             capsys):
    """A param change is invisible to Snakemake's file times; the CLI forces DVC's stale set, then
    records for DVC only the stages Snakemake ran."""
    import argparse

    from llmrepro.cli import _snakemake
    from llmrepro.pipeline.registry import load_registry
    from llmrepro.pipeline.tools import tool_env

    _edit(workspace, _set("attngrad.training.steps", 4))
    assert set(json.loads(run(["dvc", "status", "--json", *CHEAP], workspace).stdout)) == {"attngrad_training"}
    for k, v in offline_env(mirror).items():
        monkeypatch.setenv(k, v)
    reg = load_registry(workspace)
    rc = _snakemake(workspace, reg, CHEAP, argparse.Namespace(cores=1), [], ["attngrad_training"],
                    tool_env(workspace))
    err = capsys.readouterr().err
    assert rc == 0, err[-2000:]
    assert "--forcerun attngrad_training" in err
    assert "recording 1 stages Snakemake ran for DVC: attngrad_training" in err
    prov = io.read_json(workspace / "reports/attngrad/provenance/attngrad_training.json")
    assert prov["engine"] == "snakemake" and prov["params"]["attngrad.training"]["steps"] == 4
    assert json.loads(run(["dvc", "status", "--json", *CHEAP], workspace).stdout) == {}


def test_snakemake_results_are_not_recorded_over_a_corrupted_input(workspace, mirror, monkeypatch, capsys):
    import argparse

    from llmrepro.cli import _snakemake
    from llmrepro.pipeline.registry import load_registry
    from llmrepro.pipeline.tools import tool_env

    target = workspace / "data/attngrad/error_vs_b.json"
    original = target.read_bytes()
    target.write_bytes(original.replace(b"1", b"3", 1))
    for k, v in offline_env(mirror).items():
        monkeypatch.setenv(k, v)
    try:
        _edit(workspace, _set("attngrad.training.steps", 4))
        reg = load_registry(workspace)
        rc = _snakemake(workspace, reg, ["attngrad_training"], argparse.Namespace(cores=1), [],
                        ["attngrad_training"], tool_env(workspace))
        assert rc == 0  # the stage it ran has clean inputs; the corrupted file is another stage's
        lock = run(["dvc", "status", "--json", "attngrad_error_vs_b"], workspace).stdout
        assert "attngrad_error_vs_b" in json.loads(lock)  # DVC still sees the corruption: nothing recorded it
    finally:
        target.write_bytes(original)
