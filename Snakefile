# The same DAG as dvc.yaml, from the same stage registry (stages/*.py).
#
#   snakemake -c2                              # every stage, two at a time
#   snakemake -c2 cherryq_all                  # one paper and what it needs
#   snakemake --profile profiles/slurm         # on a SLURM cluster
#   dvc commit -f                              # afterwards: record the results for DVC
#
# Every per-stage value goes through input/output/params, and the command is the
# constant "{params.cmd}": an f-string in shell: inside a loop would run the last
# stage's command (snakemake issue #2832). Param values are passed as params, so a
# changed value reruns the rule; params.yaml itself is an input of report_params only.
import json
import shutil
import sys
from pathlib import Path

sys.path.insert(0, workflow.basedir)

from snakemake.exceptions import WorkflowError
from snakemake.io import report as report_item  # `report` is a Snakefile keyword

from llmrepro.pipeline import params as P
from llmrepro.pipeline.registry import load_registry
from llmrepro.pipeline.stage import is_dir, is_stamp, strip

# The SLURM executor polls the scheduler after submitting; without one it fails late and takes
# outputs with it. Refuse up front (dry runs and the jobs' own inner runs need no sbatch).
if (getattr(workflow.executor_plugin, "name", None) == "slurm" and not workflow.dryrun
        and shutil.which("sbatch") is None):
    raise WorkflowError("the SLURM executor needs `sbatch` on PATH (install slurm-client, or run "
                        "`scripts/slurm up` for a local test cluster); nothing was run")

RAW, SECTIONS = P.load(Path(workflow.basedir))
REG = load_registry(workflow.basedir, RAW)

shell.prefix("export LLMREPRO_ENGINE=snakemake; ")


def _input(s):
    # A dep inside another stage's directory output must name that directory. The params and code
    # stamps are DVC's: Snakemake validates params.yaml when it reads this file and reads the code
    # files themselves, and the stamps' fresh mtimes on every change would rerun everything.
    out = list(s.code)
    for d in s.deps.values():
        if is_stamp(d):
            continue
        prod = REG.producer_of(d)
        if prod is None:
            out.append(strip(d))
        else:
            outs = [o for o in REG[prod].all_outs().values() if strip(d) == strip(o) or strip(d).startswith(strip(o) + "/")]
            out.append(strip(outs[0]))
    return sorted(set(out))


def _caption(paper):
    """An RST caption for `snakemake --report`: the paper's claims with their current verdicts."""
    import importlib

    from llmrepro import TITLES

    path = Path(workflow.basedir, ".snakemake", "llmrepro-captions", f"{paper}.rst")
    try:
        claims = importlib.import_module(f"llmrepro.{paper}.claims").CLAIMS.claims
    except ModuleNotFoundError:
        claims = ()
    done = Path(workflow.basedir, "reports", paper, "claims.json")
    verdicts = {c["id"]: c["verdict"] for c in json.loads(done.read_text())["claims"]} if done.exists() else {}
    lines = [f"{TITLES.get(paper, paper)}", "", "Claims (verdict of the last run):", ""]
    lines += [f"- **{c.id}** ({verdicts.get(c.id, 'not run')}): {c.statement}" for c in claims]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines).replace("{", "{{").replace("}", "}}") + "\n")  # captions are Jinja templates
    return str(path)


def _output(s):
    # figures are report items, grouped by paper, captioned with its claims (`snakemake --report`)
    plots = set(s.plots.values())
    return [directory(strip(p)) if is_dir(p) else
            report_item(p, caption=_caption(s.paper), category=s.paper, subcategory=s.name) if p in plots and
            p.endswith(".png") else p
            for p in s.all_outs().values()]


def _values(s):
    return json.dumps({k: P.lookup(RAW, k) for k in s.params}, sort_keys=True)


rule all:
    default_target: True
    localrule: True
    input: [strip(o) for s in REG for o in s.all_outs().values()]


for _paper, _stages in REG.papers().items():
    rule:
        name: f"{_paper}_all"
        localrule: True
        input: [strip(o) for s in REG if s.name in REG.ancestors([t.name for t in _stages]) for o in s.all_outs().values()]


for _s in REG:
    _res = P.resource_overrides(SECTIONS, _s.paper, _s.step, _s.resources)
    rule:
        name: _s.name
        localrule: _s.light  # figures, claims, downloads: on the submit host under SLURM
        input: _input(_s)
        output: _output(_s)
        log: f"logs/{_s.name}.log"  # the stage runner writes it, under DVC too
        params:
            cmd=_s.cmd,
            values=_values(_s),
        threads: _res.threads
        resources:
            mem_mb=_res.mem_mb,
            runtime=_res.runtime,
            **({"gpu": _res.gpu} if _res.gpu else {}),
        shell: "{params.cmd}"
