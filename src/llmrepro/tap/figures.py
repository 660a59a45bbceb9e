"""tap figures: Table 1 analogue, anytime curves, ablations, sensitivity map, SmolLM2 game."""

from __future__ import annotations

import numpy as np
from matplotlib.patches import Rectangle

from llmrepro import io
from llmrepro.report.plots import figure
from llmrepro.tap import metrics as M
from llmrepro.tap.report import NAMES

COLORS = {"tap": "C0", "pair": "C1", "tap_no_prune": "C2", "tap_no_branch": "C3", "tap_weak": "C4", "random": "C7"}
N_BOOT = 400  # the anytime bands only; every other interval is the report's


def _err(ds: list[dict], scale: float = 1.0) -> np.ndarray:
    lo = [scale * (d["value"] - d["ci"][0]) if d.get("ci") and d.get("value") is not None else 0 for d in ds]
    hi = [scale * (d["ci"][1] - d["value"]) if d.get("ci") and d.get("value") is not None else 0 for d in ds]
    return np.array([lo, hi])


def _val(d: dict, scale: float = 1.0) -> float:
    return np.nan if d.get("value") is None else scale * d["value"]


def _bars(ax, groups: list[str], series: dict[str, list[dict]], scale: float, ylabel: str) -> None:
    x = np.arange(len(groups))
    w = 0.8 / len(series)
    for i, (name, ds) in enumerate(series.items()):
        ax.bar(x + (i - (len(series) - 1) / 2) * w, [_val(d, scale) for d in ds], w, yerr=_err(ds, scale),
               capsize=2, label=NAMES.get(name, name), color=COLORS.get(name, f"C{i}"))
    ax.set_xticks(x, groups)
    ax.set_ylabel(ylabel)


def table1(m: dict, out) -> None:
    tb = m["table"]
    with figure(out, ncols=2, size=(9, 3.2)) as (fig, (a, b)):
        _bars(a, list(M.TIERS), {k: [tb[k][t]["success"] for t in M.TIERS] for k in ("tap", "pair")}, 100,
              "true success (%)")
        _bars(b, list(M.TIERS), {k: [tb[k][t]["queries"] for t in M.TIERS] for k in ("tap", "pair")}, 1,
              "mean target queries (all vaults)")
        a.set_ylim(0, 105)
        a.legend(fontsize=7)


def anytime(rows: list[dict], out) -> None:
    qs = np.unique(np.round(np.logspace(0, np.log10(400), 60)).astype(int))
    methods = [k for k in ("tap", "pair", "tap_no_prune", "tap_no_branch", "tap_weak") if any(r["method"] == k for r in rows)]
    with figure(out, ncols=3, size=(12, 3.3)) as (fig, axes):
        for ax, t in zip(axes, M.TIERS):
            for k in methods:
                rs = [r for r in rows if r["method"] == k and r["tier"] == t]
                vaults = sorted({r["vault"] for r in rs})
                stop = {v: [r["stop_queries"] if r["true_success"] else np.inf for r in rs if r["vault"] == v]
                        for v in vaults}
                mat = np.array([[np.mean(np.asarray(stop[v]) <= q) for q in qs] for v in vaults])
                rng = np.random.default_rng(0)
                boots = np.array([mat[rng.integers(0, len(vaults), len(vaults))].mean(0) for _ in range(N_BOOT)])
                lo, hi = np.percentile(boots, [2.5, 97.5], axis=0)
                ax.plot(qs, 100 * mat.mean(0), color=COLORS[k], label=NAMES[k], lw=1.2)
                ax.fill_between(qs, 100 * lo, 100 * hi, color=COLORS[k], alpha=0.15, lw=0)
            ax.set(xscale="log", xlabel="target queries q", ylabel="broken within q (%)", title=t, ylim=(0, 100))
        axes[0].legend(fontsize=7)


def ablation(m: dict, out) -> None:
    tb = m["table"]
    ks = [k for k in ("tap", "tap_no_prune", "tap_no_branch", "tap_weak", "pair") if k in tb]
    with figure(out, ncols=2, size=(10, 3.3)) as (fig, (a, b)):
        _bars(a, [NAMES[k].replace(", ", "\n") for k in ks],
              {"true": [tb[k]["medium"]["success"] for k in ks], "judge": [tb[k]["medium"]["judge_success"] for k in ks]},
              100, "success, medium tier (%)")
        a.legend(["true success (secret recovered)", "judge success (score 10)"], fontsize=7)
        _bars(b, [NAMES[k].replace(", ", "\n") for k in ks], {"queries": [tb[k]["medium"]["queries"] for k in ks]}, 1,
              "mean target queries")
        for ax in (a, b):
            ax.tick_params(axis="x", labelsize=7)


def sensitivity(m: dict, knobs: dict, out) -> None:
    """Blue where TAP does better than PAIR: more successes, or fewer queries."""
    cells = m["sensitivity"]["cells"]
    po = sorted({c["p_off"] for c in cells})
    rd = sorted({c["redundancy"] for c in cells})
    with figure(out, ncols=2, size=(10, 3.8)) as (fig, axes):
        for ax, key, title, scale, cmap in (
                (axes[0], "tap_minus_pair_success", "TAP − PAIR success (points)", 100, "RdBu"),
                (axes[1], "tap_minus_pair_queries", "TAP − PAIR mean queries (blue: TAP cheaper)", 1, "RdBu_r")):
            z = np.full((len(rd), len(po)), np.nan)
            for c in cells:
                v = c[key]["value"]
                z[rd.index(c["redundancy"]), po.index(c["p_off"])] = np.nan if v is None else scale * v
            lim = np.nanmax(np.abs(z)) if np.isfinite(z).any() else 1
            im = ax.imshow(z, origin="lower", cmap=cmap, vmin=-lim, vmax=lim, aspect="auto")
            for c in cells:
                v, ci = c[key]["value"], c[key].get("ci")
                text = "–" if v is None else f"{scale * v:.0f}" + (f"\n±{scale * (ci[1] - ci[0]) / 2:.0f}" if ci else "")
                dark = v is not None and abs(scale * v) > 0.6 * lim
                ax.text(po.index(c["p_off"]), rd.index(c["redundancy"]), text, ha="center", va="center", fontsize=7,
                        color="white" if dark else "black")
            if knobs["p_off"] in po and knobs["redundancy"] in rd:
                ax.add_patch(Rectangle((po.index(knobs["p_off"]) - 0.5, rd.index(knobs["redundancy"]) - 0.5), 1, 1,
                                       fill=False, lw=2))
            ax.set_xticks(range(len(po)), [f"{x:g}" for x in po])
            ax.set_yticks(range(len(rd)), [f"{x:g}" for x in rd])
            ax.set(xlabel="off-topic drift p_off", ylabel="redundancy", title=title)
            ax.grid(False)
            fig.colorbar(im, ax=ax, shrink=0.8)


def game(m: dict, out) -> None:
    targets = m["game"]["targets"]
    with figure(out, ncols=2, size=(9, 3.2)) as (fig, (a, b)):
        names = list(targets)
        ks = list(dict.fromkeys(k for t in targets.values() for k in t["methods"]))
        _bars(a, names, {k: [targets[n]["methods"].get(k, {}).get("success", {}) for n in names] for k in ks}, 100,
              "true success (%)")
        _bars(b, names, {k: [targets[n]["methods"].get(k, {}).get("queries", {}) for n in names] for k in ks}, 1,
              "mean target queries")
        a.set_ylim(0, 105)
        a.legend(fontsize=7)


def draw_all(dep, out) -> None:
    m = io.read_json(dep.metrics)  # the report's numbers, intervals included
    table1(m, out.table1)
    anytime(io.read_json(dep.attack)["rows"], out.anytime)
    ablation(m, out.ablation)
    sensitivity(m, m["knobs"], out.sensitivity)
    game(m, out.game)
