"""`llmrepro`: list stages, show the DAG, switch scale, run a paper, benchmark.

Run it from the project root (the folder with params.yaml and stages/).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

from llmrepro import PAPERS, io
from llmrepro.pipeline import params as P
from llmrepro.pipeline.dvcyaml import render
from llmrepro.pipeline.registry import load_registry
from llmrepro.pipeline.stage import PARAMS_CHECK, RegistryError
from llmrepro.pipeline.tools import SHARED_MIRROR, dvc_stale, tool_env  # noqa: F401  (SHARED_MIRROR: tests)


def _root(args) -> Path:
    root = Path(args.root).resolve()
    if not (root / "stages").is_dir():
        raise SystemExit(f"error: {root} has no stages/ folder; run llmrepro from the project root or pass --root")
    return root


def _validated(root: Path):
    """The registry over a validated params.yaml, and its typed sections."""
    raw, sections = P.load(root)
    return load_registry(root, raw), sections


def _registry(root: Path, validate: bool = True):
    return _validated(root)[0] if validate else load_registry(root, P.read_yaml(root / P.PARAMS_FILE))


def cmd_stages(args) -> int:
    reg = _registry(_root(args), validate=False)
    if args.paper:
        reg.paper(args.paper)  # an unknown id fails, listing the papers
    for paper, stages in reg.papers().items():
        if args.paper and paper != args.paper:
            continue
        print(f"{paper}:")
        for s in stages:
            print(f"  {s.name:<34} {s.desc}")
    return 0


def cmd_dag(args) -> int:
    reg = _registry(_root(args), validate=False)
    names = {s.name for s in reg.paper(args.paper)} if args.paper else {s.name for s in reg}
    keep = reg.ancestors(names)
    if args.mermaid:
        print("flowchart TD")
        for u, v in sorted(reg.edges()):
            if u in keep and v in keep:
                print(f"  {u} --> {v}")
        return 0
    for s in reg:
        if s.name in keep:
            ups = sorted(reg.upstream[s.name])
            print(f"{s.name}" + (f"  <- {', '.join(ups)}" if ups else ""))
    return 0


def cmd_scale(args) -> int:
    root = _root(args)
    path = P.write_scale(root, args.scale, force=args.force)
    load_registry(root, P.read_yaml(path))
    print(f"wrote {path.name} at scale {args.scale}; `dvc status` shows what reruns")
    return 0


def cmd_dvc_yaml(args) -> int:
    root = _root(args)
    text = render(_registry(root, validate=False))
    path = root / "dvc.yaml"
    if args.check:
        if not path.exists() or path.read_text() != text:
            print("dvc.yaml is out of sync with the stage registry; run `llmrepro dvc-yaml`", file=sys.stderr)
            return 1
        print("dvc.yaml is in sync")
        return 0
    path.write_text(text)
    print(f"wrote {path}")
    _prune_lock(root, set(io.load_yaml(text)["stages"]))
    return 0


def _prune_lock(root: Path, stages: set[str]) -> None:
    """DVC keeps dvc.lock entries of stages that left dvc.yaml; their outputs are gone, so drop them."""
    lock_path = root / "dvc.lock"
    if not lock_path.exists():
        return
    lock = io.load_yaml(lock_path.read_text()) or {}
    gone = sorted(set(lock.get("stages", {})) - stages)
    if gone:
        for name in gone:
            del lock["stages"][name]
        lock_path.write_text(yaml.safe_dump(lock, sort_keys=False, width=1000))
        print(f"dropped from dvc.lock the stages no longer in dvc.yaml: {', '.join(gone)}")


def cmd_check(args) -> int:
    root = _root(args)
    reg = _registry(root)
    print(f"params.yaml valid; {len(reg)} stages in {len(reg.papers())} groups, DAG acyclic")
    return cmd_dvc_yaml(argparse.Namespace(root=args.root, check=True))


def _dvc_stale(root: Path, stages: list[str], env: dict[str, str]) -> list[str]:
    try:
        return dvc_stale(root, stages, env)
    except RuntimeError as e:
        raise SystemExit(f"error: {e}") from None


def _provenance_stamps(root: Path, reg) -> dict[str, float | None]:
    return {s.name: (root / s.provenance).stat().st_mtime_ns if (root / s.provenance).exists() else None
            for s in reg}


def _snakemake(root: Path, reg, stages: list[str], args, extra: list[str], targets: list[str],
               env: dict[str, str]) -> int:
    """Snakemake sees only file times; DVC is the source of truth. So: force what `dvc status`
    calls stale, run, then record for DVC exactly the stages Snakemake ran, after checking that
    nothing they did not produce changed behind DVC's back."""
    stale = _dvc_stale(root, list(dict.fromkeys([PARAMS_CHECK, *stages])), env)
    if PARAMS_CHECK in stale:  # DVC's own params check (Snakemake has none): record it first, under DVC
        rc = subprocess.call(["dvc", "repro", "-s", "-q", PARAMS_CHECK], cwd=root, env=env)
        if rc != 0:
            return rc
        stale.remove(PARAMS_CHECK)
    cmd = ["snakemake", "-c", str(args.cores), *targets,
           *(["--forcerun", *stale] if stale else []), *extra]
    print("+", " ".join(cmd), file=sys.stderr)
    before = _provenance_stamps(root, reg)
    rc = subprocess.call(cmd, cwd=root, env=env)
    ran = [n for n, t in _provenance_stamps(root, reg).items() if t != before[n]]
    if rc != 0 or not ran:
        return rc
    # Inputs the run did not produce must still be what dvc.lock records.
    upstream = sorted(reg.ancestors(ran) - set(ran))
    drifted = _dvc_stale(root, upstream, env) if upstream else []
    if drifted:
        print(f"error: not recording Snakemake's results for DVC: stages it did not run have changed inputs or "
              f"outputs since dvc.lock ({', '.join(drifted)}); see `dvc status {' '.join(drifted)}`",
              file=sys.stderr)
        return 3
    print(f"recording {len(ran)} stages Snakemake ran for DVC: {', '.join(ran)}", file=sys.stderr)
    return subprocess.call(["dvc", "commit", "-f", "-q", *ran], cwd=root, env=env)


def _hub_denied(reg, sections, stages: list[str]) -> list[str]:
    """What the hub refuses to the stages this run may start (all of them for []), asked before any runs."""
    from llmrepro.pipeline import hub

    todo = reg.ancestors(stages) if stages else {s.name for s in reg}
    return hub.access_problems(hub.refs(sections, [k for s in reg if s.name in todo for k in s.params]))


def _engine(root: Path, reg, sections, stages: list[str], args, extra: list[str],
            snake_targets: list[str] = ()) -> int:
    denied = _hub_denied(reg, sections, stages)
    if denied:
        print("error: nothing ran; the hub refuses inputs of stages this run would start:\n  "
              + "\n  ".join(denied), file=sys.stderr)
        return 2
    env = tool_env(root)
    if args.engine == "snakemake":
        return _snakemake(root, reg, stages, args, extra, list(snake_targets), env)
    cmd = ["dvc", "repro", *stages, *extra]
    print("+", " ".join(cmd), file=sys.stderr)
    return subprocess.call(cmd, cwd=root, env=env)


def cmd_run(args, extra: list[str]) -> int:
    root = _root(args)
    reg, sections = _validated(root)  # bad params fail here, before any compute
    own = [s.name for p in dict.fromkeys(args.papers) for s in reg.paper(p)]  # an unknown id fails, listing them
    if args.engine == "snakemake":  # Snakemake builds the upstream too; one run, so papers' jobs interleave
        return _engine(root, reg, sections, [s.name for s in reg if s.name in reg.ancestors(own)], args, extra,
                       [f"{p}_all" for p in dict.fromkeys(args.papers)])
    return _engine(root, reg, sections, own, args, extra)


def cmd_repro(args, extra: list[str]) -> int:
    root = _root(args)
    reg, sections = _validated(root)
    return _engine(root, reg, sections, [s.name for s in reg] if args.engine == "snakemake" else [], args, extra)


def cmd_verify(args) -> int:
    from llmrepro.report import verify as V

    root = _root(args)
    env = tool_env(root)
    try:
        if args.seeds is not None:
            k = int(args.seeds)
            if k == 0:
                raise SystemExit("error: --seeds needs a non-zero shift, e.g. --seeds +1")
            doc = V.robustness_run(root, args.papers or None, k, env, Path(args.workdir) if args.workdir else None)
            print(V.render_robustness(doc))
            print("wrote reports/robustness.json and robustness.md; `llmrepro repro` marks fragile claims on the "
                  "pages (only the report stages rerun)", file=sys.stderr)
            return 0
        rc, _ = V.verify(root, args.papers or None, args.against, env, check_fresh=not args.no_fresh_check)
        return rc
    except V.VerifyError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


def cmd_compare(args) -> int:
    from llmrepro.report.compare import compare, render

    root = _root(args)
    text = render(compare(root, args.rev, args.rev2, tool_env(root)))
    if args.out:
        Path(args.out).write_text(text)
    print(text)
    return 0


def cmd_audit(args) -> int:
    import time

    from llmrepro.report.audit import audit

    t0 = time.perf_counter()
    problems = audit(_root(args))
    for p in problems:
        print(f"audit: {p}", file=sys.stderr)
    took = time.perf_counter() - t0
    if problems:
        print(f"audit: {len(problems)} inconsistencies ({took:.1f} s)", file=sys.stderr)
        return 1
    print(f"audit: the committed results agree with dvc.lock, params.yaml, the code and each other ({took:.1f} s)")
    return 0


def cmd_bench(args) -> int:
    from llmrepro.report.bench import run_bench

    root = _root(args)
    reg = _registry(root)
    for p in args.papers or []:
        reg.paper(p)  # an unknown id fails before anything runs, listing the papers
    run_bench(root, noop_repeats=args.repeats, engines=args.engines or bool(args.papers), tests=args.tests,
              engine_papers=args.papers)
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="llmrepro", description=__doc__)
    ap.add_argument("--root", default=".", help="project root (default: .)")
    sub = ap.add_subparsers(dest="cmd", required=True)
    ids = ", ".join(("common", *PAPERS))
    p = sub.add_parser("stages", help="list stages, by paper")
    p.add_argument("--paper", metavar="ID", help=f"only this paper's stages; one of {ids}")
    p = sub.add_parser("dag", help="show the DAG (upstream of a paper with --paper)")
    p.add_argument("--paper", metavar="ID", help=f"only what this paper needs; one of {ids}")
    p.add_argument("--mermaid", action="store_true", help="print a Mermaid flowchart")
    p = sub.add_parser("scale", help="write the effective params.yaml for a scale")
    p.add_argument("scale", choices=P.SCALES, help="smoke (tests), mini (the default suite) or full (paper scale)")
    p.add_argument("--force", action="store_true", help="overwrite a hand-edited params.yaml (kept as .bak)")
    p = sub.add_parser("dvc-yaml", help="regenerate dvc.yaml from the registry")
    p.add_argument("--check", action="store_true", help="only check that it is in sync")
    sub.add_parser("check", help="validate params.yaml, the registry and dvc.yaml")
    for name, helptext in (("run", "run papers' stages (and what they need)"), ("repro", "run every stage")):
        p = sub.add_parser(name, help=helptext)
        if name == "run":
            p.add_argument("papers", nargs="+", metavar="ID", help=f"one or more of {ids}")
        p.add_argument("--engine", choices=("dvc", "snakemake"), default="dvc",
                       help="dvc repro (sequential; the default) or snakemake (parallel, clusters)")
        p.add_argument("-c", "--cores", type=int, default=2, help="Snakemake cores")
    p = sub.add_parser("verify", help="compare the results in the work tree with the committed ones; "
                                      "--seeds +k: rerun with every seed shifted and record which verdicts hold")
    p.add_argument("papers", nargs="*", metavar="ID", help="papers to check (default: every paper with results)")
    p.add_argument("--against", default="HEAD", help="git revision of the committed results (default: HEAD)")
    p.add_argument("--seeds", metavar="+K", help="rerun the suite in a scratch copy with every seed shifted K "
                                                 "blocks, and write reports/robustness.{json,md}")
    p.add_argument("--workdir", help="scratch folder for --seeds (default: ../.llmrepro-seeds+K)")
    p.add_argument("--no-fresh-check", action="store_true",
                   help="compare even if `dvc status` says the results are not current")
    p = sub.add_parser("compare", help="what a change did to the results: verdicts, params, metrics, stages")
    p.add_argument("rev", help="git revision before (e.g. HEAD~1, main)")
    p.add_argument("rev2", nargs="?", help="git revision after (default: the work tree)")
    p.add_argument("--out", help="also write the Markdown to this file")
    sub.add_parser("audit", help="check the committed results against dvc.lock, params, code and each other "
                                 "(no recompute)")
    p = sub.add_parser("bench", help="time stages, no-op runs and the training loop")
    p.add_argument("--repeats", type=int, default=3, help="timed repeats of the no-op `dvc repro` (median)")
    p.add_argument("--engines", action="store_true",
                   help="also run the whole suite cold under dvc repro and snakemake -c2 (scratch copies; long)")
    p.add_argument("--papers", nargs="+", metavar="ID",
                   help="with --engines: time only these papers' DAGs (and their upstream stages) under both engines")
    p.add_argument("--tests", action="store_true", help="also time the README's test command")
    args, extra = ap.parse_known_args(argv)
    if extra[:1] == ["--"]:  # `llmrepro run X -- <engine args>`: argparse leaves the separator in
        extra = extra[1:]
    try:
        if args.cmd in ("run", "repro"):
            return {"run": cmd_run, "repro": cmd_repro}[args.cmd](args, extra)
        if extra:
            ap.error(f"unrecognized arguments: {' '.join(extra)}")
        return {"stages": cmd_stages, "dag": cmd_dag, "scale": cmd_scale, "dvc-yaml": cmd_dvc_yaml,
                "check": cmd_check, "bench": cmd_bench, "verify": cmd_verify,
                "audit": cmd_audit, "compare": cmd_compare}[args.cmd](args)
    except (P.ParamsError, RegistryError, KeyError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
