"""Figures of the common stages."""

from __future__ import annotations

from pathlib import Path

from llmrepro import io
from llmrepro.report.plots import curve_data, figure


def loss_curve(history_path: Path, out: Path) -> None:
    h = io.read_json(history_path)
    with figure(out, ncols=2) as (fig, (a, b)):
        a.plot(h["step"], h["loss"], lw=0.8)
        a.set(xlabel="step", ylabel="training loss (nats/token)", title="tiny Llama pretraining")
        for key in [k for k in h["eval"][-1] if k.startswith("val_ppl_")]:
            b.plot([e["step"] for e in h["eval"]], [e[key] for e in h["eval"]], "o-", ms=3,
                   label=key.removeprefix("val_ppl_"))
            b.axhline(h["unigram_ppl"][key.removeprefix("val_ppl_")], ls=":", lw=0.8, color=b.lines[-1].get_color())
        b.set(xlabel="step", ylabel="validation perplexity", yscale="log", title="dotted: unigram baseline")
        b.legend()


def ppl_bars(ppl_path: Path, out: Path) -> None:
    p = io.read_json(ppl_path)
    names = [k for k, v in p.items() if isinstance(v, dict) and "ppl" in v]
    with figure(out) as (fig, ax):
        x = range(len(names))
        ax.bar([i - 0.2 for i in x], [p[n]["ppl"] for n in names], 0.4, label="SmolLM2-135M-Instruct (Q4_1→fp32)")
        ax.bar([i + 0.2 for i in x], [p[n].get("unigram_ppl") or 0 for n in names], 0.4, label="unigram (same tokens)")
        ax.set_xticks(list(x), names)
        ax.set(ylabel="perplexity (held-out test split)", yscale="log")
        ax.legend()


def draw_all(dep, out) -> None:
    loss_curve(dep.history, out.loss)
    ppl_bars(dep.ppl, out.ppl)
    h = io.read_json(dep.history)
    curve_data(out.loss_data, [{"step": s, "loss": l} for s, l in zip(h["step"], h["loss"])])
