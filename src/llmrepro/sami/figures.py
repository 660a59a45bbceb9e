"""sami figures: the paper's Fig. 2a (MI bound) and 2b/4 (win rates), length, each
principle's adherence, and the over-training control. Bars are over seeds."""

from __future__ import annotations

import numpy as np

from llmrepro.report.plots import figure

STYLE = {"sami": ("C0", "o", "SAMI"), "sft": ("C1", "s", "self-SFT"), "rows": ("C2", "^", "rows only"),
         "cols": ("C3", "v", "columns only")}


def _sem(m: dict) -> float:
    sd, n = m.get("sd"), m.get("n", 0)
    return 0.0 if sd is None or n < 2 else sd / np.sqrt(n)


def _halfci(m: dict) -> float:
    return 0.0 if not m.get("ci") else (m["ci"][1] - m["ci"][0]) / 2


def _v(m: dict) -> float:
    return np.nan if m.get("value") is None else m["value"]


def _lines(ax, m: dict, key: str, err=_sem) -> None:
    """SAMI and self-SFT per iteration; the one-sided losses at the last iteration only."""
    n = len(m["curves"]["sami"])
    for kind, rows in m["curves"].items():
        c, mk, label = STYLE[kind]
        ax.errorbar(np.arange(n), [_v(r[key]) for r in rows], yerr=[err(r[key]) for r in rows],
                    color=c, marker=mk, ms=4, capsize=3, lw=1.2, label=label)
    for j, (kind, r) in enumerate(m["ablations"].items()):
        c, mk, label = STYLE[kind]
        ax.errorbar([n - 1 + 0.08 * (j + 1)], [_v(r[key])], yerr=[err(r[key])], color=c, marker=mk, ms=4, capsize=3,
                    ls="none", label=label)
    ax.set_xticks(np.arange(n))
    ax.set_xlabel("iteration (0 = base)")


def mi(m: dict, out) -> None:
    with figure(out, size=(4.8, 3.4)) as (fig, ax):
        _lines(ax, m, "mi", err=_halfci)
        ax.axhline(_v(m["curves"]["sami"][0]["mi"]), color="grey", ls="--", lw=1, label="base")
        ax.axhline(_v(m["instruct"]["mi"]), color="k", ls="--", lw=1, label="instruct")
        ax.set(ylabel="conditional MI lower bound (nats)", title="MI bound (bars: 95% CI over seeds)")
        ax.legend(fontsize=7)


def wins(m: dict, out) -> None:
    with figure(out, ncols=2, size=(9, 3.4)) as (fig, (a, b)):
        _lines(a, m, "win_vs_base")
        a.set(ylabel="win rate vs base (`brief all`)", title="against the base model")
        _lines(b, m, "win_vs_instruct")
        b.axhline(_v(m["instruct"]["win_vs_base"]), color="k", ls="--", lw=1, label="instruct vs base")
        b.set(ylabel="win rate vs instruct", title="against the instruct model")
        for ax in (a, b):
            ax.axhline(0.5, color="grey", lw=0.6)
        a.legend(fontsize=7)
        b.legend(fontsize=7)


def length(m: dict, out) -> None:
    with figure(out, size=(4.8, 3.4)) as (fig, ax):
        _lines(ax, m, "length")
        ax.axhline(_v(m["instruct"]["length"]), color="k", ls="--", lw=1, label="instruct")
        ax.set(ylabel="response length (tokens, `brief all`)", title="length (bars: ± SEM over seeds)")
        ax.legend(fontsize=7)


def principles(m: dict, out) -> None:
    keys = (("brevity_gap", "brevity link: fillers/fact long − brief"),
            ("coverage_gap", "completeness link: coverage all − some"),
            ("fillers_desired", "fillers/fact under `brief all`"), ("coverage_desired", "coverage under `brief all`"))
    with figure(out, ncols=4, size=(15, 3.4)) as (fig, axes):
        for ax, (k, title) in zip(axes, keys):
            _lines(ax, m, k)
            ax.axhline(_v(m["instruct"][k]), color="k", ls="--", lw=1, label="instruct")
            ax.set(title=title)
        axes[0].legend(fontsize=7)


def overtrain(m: dict, out) -> None:
    xs = [int(x) * m["steps"][-1] for x in m["overtrain"]]
    rows = list(m["overtrain"].values())
    with figure(out, ncols=2, size=(9, 3.4)) as (fig, (a, b)):
        a.errorbar(xs, [_v(r["win_vs_base"]) for r in rows], yerr=[_sem(r["win_vs_base"]) for r in rows],
                   marker="o", capsize=3, label="over-trained run")
        a.axhline(_v(m["curves"]["sami"][-1]["win_vs_base"]), color="C0", ls="--", lw=1, label="SAMI, last iteration")
        a.axhline(0.5, color="grey", lw=0.6)
        a.set(xscale="log", xlabel="SAMI steps on the base model's data", ylabel="win rate vs base")
        a.legend(fontsize=7)
        b.errorbar(xs, [_v(r["ppl_copy_ratio"]) for r in rows], yerr=[_sem(r["ppl_copy_ratio"]) for r in rows],
                   marker="o", capsize=3, label="copy perplexity / base")
        b.errorbar(xs, [_v(r["ppl_corpus_ratio"]) for r in rows], yerr=[_sem(r["ppl_corpus_ratio"]) for r in rows],
                   marker="s", capsize=3, label="corpus perplexity / base")
        b.axhline(1.10, color="r", ls=":", lw=1, label="+10 %")
        b.set(xscale="log", xlabel="SAMI steps on the base model's data", ylabel="ratio to the base model")
        for ax in (a, b):
            ax.set_xticks(xs, [str(x) for x in xs])
            ax.minorticks_off()
        b.legend(fontsize=7)


def draw_all(dep, out) -> None:
    from llmrepro import io
    from llmrepro.sami.report import metrics

    if "judge" in io.read_json(dep.judged):  # paper scale: the page reads the numbers; no mini figures
        for path in (out.mi, out.win, out.length, out.principles, out.overtrain):
            with figure(path) as (fig, ax):
                ax.text(0.5, 0.5, "paper scale: see metrics.json", ha="center")
        return

    m = metrics({k: getattr(dep, k) for k in ("pretrain", "sami", "sft", "ablate", "overtrain", "judged")},
                *_schedule(dep))
    mi(m, out.mi)
    wins(m, out.win)
    length(m, out.length)
    principles(m, out.principles)
    overtrain(m, out.overtrain)


def _schedule(dep) -> tuple[list[int], list[int]]:
    """The schedule as the runs recorded it (figures declare no params)."""
    from llmrepro import io

    sami = io.read_json(dep.sami / "runs.json")
    over = io.read_json(dep.overtrain / "runs.json")
    steps = [r["steps"] for r in next(iter(sami["runs"].values()))]
    return steps, over["evaluate_at"]
