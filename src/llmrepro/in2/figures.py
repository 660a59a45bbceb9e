"""in2 figures: accuracy against relative position per probe style (the paper's
Figure 1 analogue) and the training curves of both stages."""

from __future__ import annotations

import numpy as np

from llmrepro import io
from llmrepro.in2.data import STYLES
from llmrepro.report.plots import figure

TITLES = {"forward": "forward: key → the token after it (database)",
          "backward": "backward: key → the token before it (code)",
          "bidirectional": "bi-directional: fragment → rest of record (document)"}
ARM_STYLE = {"natural": ("o-", "#7F7F7F", "natural: short contexts, answers at the ends"),
             "natural_long": ("^--", "#0F9ED5", "ablation: long contexts, answers at the ends"),
             "in2": ("s-", "#E97132", "IN2: long contexts, answers anywhere")}


def _seed_band(runs: list[dict], style: str) -> tuple[np.ndarray, np.ndarray]:
    """Mean bucket curve over seeds, and the half-width of its 95 % t-interval."""
    from scipy import stats

    c = np.array([r["long"][style]["buckets"] for r in runs], float)
    n = len(c)
    if n < 2:
        return c.mean(0), np.zeros(c.shape[1])
    return c.mean(0), stats.t.ppf(0.975, n - 1) * c.std(0, ddof=1) / np.sqrt(n)


def by_position(arms: dict[str, dict], out) -> None:
    with figure(out, ncols=3, size=(13.5, 3.8)) as (fig, axes):
        for ax, style in zip(axes, STYLES):
            for arm, res in arms.items():
                mark, color, label = ARM_STYLE[arm]
                mean, half = _seed_band(res["runs"], style)
                x = (np.arange(len(mean)) + 0.5) / len(mean)
                ax.errorbar(x, mean, yerr=half, fmt=mark, color=color, capsize=3, label=label)
            n = len(next(iter(arms.values()))["runs"][0]["long"][style]["per_position"])
            ax.axhline(1 / n, ls=":", color="k", lw=0.8, label=f"chance (1/{n})")
            ax.set(xlabel="relative position of the queried record", ylim=(-0.02, 1.05), title=TITLES[style])
        axes[0].set_ylabel("accuracy (bi-directional: word-set recall)")
        axes[0].legend(fontsize=7, loc="lower right")


def training(retrieval: dict, arms: dict[str, dict], out) -> None:
    with figure(out, ncols=3, size=(12.5, 3.2)) as (fig, (a, b, c)):
        for i, m in enumerate(retrieval["runs"]):  # one stage-1 model per seed
            copy, ask = m.get("copy_loss", []), m["loss"]
            a.plot(np.linspace(0, 1, len(copy)), copy, color="#7F7F7F", alpha=0.7,
                   label="copy warm-up (every copied token)" if i == 0 else None)
            a.plot(np.linspace(1, 2, len(ask)), ask, color="k", alpha=0.7,
                   label="questions on short contexts" if i == 0 else None)
        a.set(xlabel="phase (fraction of its steps)", ylabel="loss (nats)",
              title="stage 1: general retrieval, one line per model")
        a.legend(fontsize=7)
        for arm, res in arms.items():
            _, color, label = ARM_STYLE[arm]
            for i, r in enumerate(res["runs"]):
                b.plot(np.linspace(0, 1, len(r["loss"])), r["loss"], color=color, alpha=0.6,
                       label=label if i == 0 else None)
            hist = np.array([r["supervised_positions"] for r in res["runs"]], float).sum(0)
            c.step(np.linspace(0.05, 0.95, len(hist)), hist / hist.sum(), where="mid", color=color, label=label)
        b.set(xlabel="fraction of stage-2 steps", ylabel="answer loss (nats)", title="stage 2, one line per seed")
        c.set(xlabel="relative position of supervised records", ylabel="share of supervised answers",
              title="where stage-2 answers sit")
        b.legend(fontsize=7)
        c.legend(fontsize=7)


def draw_all(dep, out) -> None:
    arms = {a: io.read_json(getattr(dep, a)) for a in ARM_STYLE}
    by_position(arms, out.position)
    training(io.read_json(dep.retrieval), arms, out.training)
