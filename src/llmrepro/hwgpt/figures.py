"""hwgpt figures: heteroscedastic latency noise, calibration, predicted against measured, Pareto
fronts per device, hypervolume against evaluations, and the supernet against standalone training."""

from __future__ import annotations

import numpy as np

from llmrepro import io
from llmrepro.hwgpt.analysis import pareto_keys
from llmrepro.hwgpt.space import Arch
from llmrepro.report.plots import figure

COLORS = {"mlp": "C0", "ensemble": "C1", "quantile": "C2", "gp": "C3",
          "rs": "k", "ls": "C0", "nsga2": "C1", "moead": "C2", "parego": "C4"}


def heteroscedasticity(hw: dict, out) -> None:
    devs = list(hw["devices"])
    with figure(out, ncols=len(devs), size=(4.3 * len(devs), 3.4)) as (fig, axes):
        for ax, d in zip(axes, devs):
            W = np.asarray(hw["devices"][d]["wall_ms"])
            C = np.asarray(hw["devices"][d]["cpu_ms"])
            lost = np.mean(W > 1.25 * C, axis=1)  # share of this architecture's passes that waited for the CPU
            sc = ax.scatter(W.mean(1), W.std(1, ddof=1), c=lost, s=9, cmap="viridis", vmin=0, vmax=max(0.2, lost.max()))
            ax.set(xscale="log", yscale="log", xlabel="mean latency (ms)", ylabel="std of the repeats (ms)",
                   title=f"{d}: {hw['devices'][d]['threads']} thread(s), batch {hw['devices'][d]['batch']}")
            fig.colorbar(sc, ax=ax, label="passes > 25 % off-CPU")
        loads = [r["loadavg1"] for r in hw["rounds"] if "loadavg1" in r]
        fig.suptitle(f"{len(W)} architectures x {W.shape[1]} round-robin repeats; 1-min load during measurement: "
                     f"median {np.median(loads):.1f} on {hw['machine'].split('|')[1].strip()}", fontsize=8)


def _band(ax, x, curves, color, label):
    m = curves.mean(0)
    lo, hi = np.percentile(curves, [2.5, 97.5], axis=0) if len(curves) > 1 else (m, m)
    ax.plot(x, m, "o-", ms=2.5, color=color, label=label)
    ax.fill_between(x, lo, hi, color=color, alpha=0.15)


def calibration(sur: dict, out, n_boot: int = 500) -> None:
    lv = np.asarray(sur["levels"])
    targets = list(sur["targets"])
    with figure(out, ncols=len(targets), size=(3.6 * len(targets), 3.4)) as (fig, axes):
        for ax, t in zip(axes, targets):
            rng = np.random.default_rng(0)
            for m, r in sur["targets"][t]["methods"].items():
                per = r.get("per_arch_coverage")
                if per is None:
                    continue
                per = np.asarray(per)
                boots = np.array([per[rng.integers(0, len(per), len(per))].mean(0) for _ in range(n_boot)])
                _band(ax, lv, np.vstack([per.mean(0)[None], boots]), COLORS[m],
                      f"{m} (area {r['calibration']['area']:.3f})")
            ax.plot([0, 1], [0, 1], "k:", lw=0.8)
            ax.set(xlabel="nominal central-interval level", ylabel="observed coverage", title=t, xlim=(0, 1), ylim=(0, 1))
            ax.legend(fontsize=6)


def predicted(sur: dict, out) -> None:
    targets = list(sur["targets"])
    with figure(out, ncols=len(targets), size=(3.6 * len(targets), 3.4)) as (fig, axes):
        for ax, t in zip(axes, targets):
            res = sur["targets"][t]
            obs = np.asarray(res["observed_mean"])
            for m in ("ensemble", "gp"):
                r = res["methods"][m]
                mu = np.asarray(r["pred_mean"])
                if r["pred_lo90"] is None:
                    ax.plot(obs, mu, "o", ms=3, color=COLORS[m], label=m)
                    continue
                err = np.vstack([mu - np.asarray(r["pred_lo90"]), np.asarray(r["pred_hi90"]) - mu])
                ax.errorbar(obs, mu, yerr=np.maximum(err, 0), fmt="o", ms=2.5, lw=0.6, alpha=0.7, color=COLORS[m],
                            label=f"{m} (R² {r['r2']['value']:.2f})")
            lim = [min(obs.min(), 0), obs.max() * 1.1]
            ax.plot(lim, lim, "k:", lw=0.8)
            unit = "NLL (nats)" if t == "perplexity" else "latency (ms)"
            ax.set(xlabel=f"measured mean {unit}", ylabel=f"predicted mean {unit}", title=f"{t}, held out")
            ax.legend(fontsize=6)


def fronts(hw: dict, ppl: dict, search: dict, out) -> None:
    archs = [Arch.from_dict(a) for a in hw["archs"]]
    keys = [a.key for a in archs]
    p = np.exp(np.asarray(ppl["nll"][:len(archs)]))
    devs = list(hw["devices"])
    front = {d: pareto_keys(keys, p, np.median(np.asarray(hw["devices"][d]["wall_ms"]), 1)) for d in devs}
    both = set.intersection(*(set(f) for f in front.values()))
    with figure(out, ncols=len(devs), size=(4.3 * len(devs), 3.6)) as (fig, axes):
        for ax, d in zip(axes, devs):
            W = np.asarray(hw["devices"][d]["wall_ms"])
            med = np.median(W, 1)
            q1, q3 = np.percentile(W, [25, 75], axis=1)
            ax.errorbar(med, p, xerr=[med - q1, q3 - med], fmt="o", ms=2, lw=0.4, color="0.6", alpha=0.6,
                        label="measured architectures (median, IQR of repeats)")
            idx = [keys.index(k) for k in front[d]]
            order = np.argsort(med[idx])
            ax.plot(med[idx][order], p[idx][order], "o-", color="C3", ms=4, label=f"Pareto set ({len(idx)})")
            shared = [keys.index(k) for k in front[d] if k in both]
            ax.plot(med[shared], p[shared], "s", mfc="none", mec="k", ms=8, label="in both devices' sets")
            ax.set(xscale="log", xlabel="median latency (ms)", ylabel="perplexity (inherited weights)", title=d)
            ax.legend(fontsize=6)


def hypervolume(search: dict, small: int, out) -> None:
    devs = list(search["devices"])
    with figure(out, ncols=len(devs), size=(4.3 * len(devs), 3.4)) as (fig, axes):
        for ax, d in zip(axes, devs):
            dev = search["devices"][d]
            for m, runs in dev["runs"].items():
                reg = dev["hv_true"] - np.array([r["hv"] for r in runs])
                x = np.arange(1, reg.shape[1] + 1)
                mean, se = reg.mean(0), reg.std(0, ddof=1) / np.sqrt(len(reg))
                ax.plot(x, mean, color=COLORS[m], label=m)
                ax.fill_between(x, np.maximum(mean - 1.96 * se, 1e-6), mean + 1.96 * se, color=COLORS[m], alpha=0.15)
            ax.axvline(small, color="k", lw=0.6, ls=":")
            ax.set(yscale="log", xlabel="evaluations", ylabel="hypervolume regret", title=f"perplexity vs latency {d}")
            ax.legend(fontsize=6)


def supernet(hist: dict, standalone: dict, ppl: dict, out) -> None:
    alone = [r["nll"] for r in standalone["runs"]]
    inh = ppl["standalone_inherited_nll"]
    with figure(out, ncols=2, size=(8.6, 3.4)) as (fig, (a1, a2)):
        a1.plot(alone, inh, "o", color="C0")
        for r, x, y in zip(standalone["runs"], alone, inh):
            a1.annotate(f"{r['params'] / 1e3:.0f}k", (x, y), fontsize=6, xytext=(3, 2), textcoords="offset points")
        rep = standalone["noise_repeat"]["nll"]
        a1.errorbar([np.mean(rep)], [inh[len(alone) // 2]], xerr=[[abs(rep[0] - rep[1]) / 2]], fmt="none", color="k",
                    capsize=3, label="two initialisations of the middle architecture")
        a1.set(xlabel="standalone validation NLL (nats)", ylabel="inherited (supernet) NLL (nats)",
               title="same architectures, same schedule")
        a1.legend(fontsize=6)
        k = max(1, min(20, len(hist["loss_largest"]) // 5))
        for name, color in (("loss_largest", "C3"), ("loss_smallest", "C2")):
            y = np.convolve(hist[name], np.ones(k) / k, mode="valid")
            a2.plot(np.arange(k, len(hist[name]) + 1), y, color=color, label=name.removeprefix("loss_"))
        a2.axhline(hist["unigram_nll"], color="k", ls=":", lw=0.8, label="unigram")
        a2.set(xlabel="sandwich step", ylabel=f"training loss ({k}-step mean)", title="supernet training")
        a2.legend(fontsize=6)


def draw_all(dep, out) -> None:
    hw, ppl = io.read_json(dep.hardware), io.read_json(dep.ppl)
    sur, srch = io.read_json(dep.surrogates / "heldout.json"), io.read_json(dep.search)
    heteroscedasticity(hw, out.hetero)
    calibration(sur, out.calibration)
    predicted(sur, out.predicted)
    fronts(hw, ppl, srch, out.fronts)
    hypervolume(srch, srch["small_budget"], out.hv)
    supernet(io.read_json(dep.supernet / "history.json"), io.read_json(dep.standalone), ppl, out.supernet)
