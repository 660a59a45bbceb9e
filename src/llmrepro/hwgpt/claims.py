"""hwgpt claims. The tests are the issue's (Jaccard < 1, tau clearly below 1, 90 % coverage within
+-5 points, a tau interval that excludes 0, non-overlapping intervals at a small budget); the
preconditions and the margins that make "clearly" and "engaged" concrete were fixed after the
pilot (see report.md, "Pilot") and before the claim run.

Tolerances for `llmrepro verify`: every checked metric without an interval comes from training or
from measurement and gets an explicit absolute tolerance. They are judgment calls, not measured
spreads (the pilot ran once, at other seeds): wide for latency-derived quantities, which move with
the machine's load, and about one pilot-to-claim-run difference for the rest.

Timings: every latency is a wall-clock measurement, and so is everything computed from it (the
hardware metrics, the latency surrogates, and the search, which runs on the latency surrogates'
benchmark). They are declared as timing fields: a rerun on the same machine does not reproduce them
byte for byte, and `llmrepro verify` compares them with the tolerances below (or as ratios).

C1 and C2 are `device_bound`: a second quiet measurement on the same Zen 1, hours after the committed
one (2026-12-02), moved t2_b8's split-half tau 0.728 -> 0.907, the Jaccard between devices 0.368 -> 0.75,
t1_b1's Spearman(mean, std) 0.961 -> 0.641 and its MLP coverage 0.976 -> 0.801, past every tolerance
below, with both verdicts unchanged (inconclusive, not reproduced). So verify holds their verdicts, not
their numbers, to the committed run.
"""

from llmrepro.pipeline.claims import Check, Claim, ClaimSet, Tol
from llmrepro.report.pages import ClaimChange

DEVICES = ("t1_b1", "t2_b8")
HETERO = ("mlp", "ensemble", "quantile")

TAU, AREA = Tol(abs=0.15), Tol(abs=0.05)

# On its interval since stop 24 (see REVISED_C1_GATE): a point estimate near 0.8 let the machine's state
# decide between "inconclusive" and a verdict.
RELIABLE = tuple(Check(f"hardware.devices.{d}.split_half_tau", ">=", 0.8, on="ci", tol=TAU,
                       label=f"{d}: split-half Kendall tau of per-architecture median latency")
                 for d in DEVICES)

QUIET = (Check("hardware.quiet", "==", True,
               label="machine quiet while measuring (<= 5 % of 1-thread passes lost > 20 % of their time to other "
                     "processes, median 1-min load <= 2.5)"),
         *(Check(f"hardware.devices.{d}.heteroscedasticity", ">", 0.0, on="ci", tol=Tol(abs=0.3),
                 label=f"{d}: Spearman(mean, std) of the repeats across architectures") for d in DEVICES))

# Issue 19, seed shift: C1 and C2 flipped when every seed moved by one block. Both checks read a point
# estimate with no interval; the intervals below were chosen from that diagnosis before the rerun, and
# the thresholds did not move.
REVISED_C1 = ("The Jaccard margin was a point estimate: a new architecture sample and a new measurement moved it "
              "from -0.098 to +0.050 (Pareto sets of 14-22 members move ~0.05 per member). It now carries a "
              "bootstrap interval over architectures and their latency repeats and must clear 0 as a whole.")
REVISED_C1_GATE = ("The reliability gate read the split-half tau's point estimate against 0.8: committed t1_b1 "
                   "0.751 [0.699, 0.798] and t2_b8 0.728 [0.661, 0.789] in a quiet run, t1_b1 0.93 in a run of "
                   "this machine beside the niced tests. Which side of 0.8 a point lands on is the machine's "
                   "state; CI's recompute (stop 24) flagged C1. The gate now needs the whole bootstrap interval "
                   "at or above 0.8 (a straddling one leaves C1 inconclusive); the threshold did not move.")
REVISED_C2 = ("Each 90 % coverage was one held-out split with one surrogate seed and no interval: the MLP's moved "
              "from 0.93 to 0.817 at shifted seeds. It is now pooled over 5 splits, each with its own test "
              "architectures and surrogate seed, with a bootstrap interval over splits and test architectures that "
              "must lie inside [0.85, 0.95] as a whole.")

CLAIMS = ClaimSet("hwgpt", (
    Claim("C1", "The Pareto sets (perplexity against latency) of the two devices differ, and latency is not a "
                "monotone function of FLOPs: Kendall tau clearly below 1 and below the measurement's own "
                "split-half reliability.",
          paper_value="an architecture that excels in latency on one device may not be optimal on another "
                      "(13 devices; qualitative)",
          precondition=RELIABLE, revised=f"{REVISED_C1} {REVISED_C1_GATE}",
          checks=(Check("hardware.pareto.jaccard_between", "<", 1.0, tol=Tol(abs=0.35),
                        label="Jaccard(Pareto set t1_b1, Pareto set t2_b8), measured sample"),
                  Check("hardware.pareto.jaccard_margin", ">", 0.0, on="ci", tol=Tol(abs=0.5),
                        label="min over devices of split-half Jaccard within a device minus Jaccard between devices "
                              "(bootstrap over architectures and their repeats)"),
                  *(Check(f"hardware.devices.{d}.tau_flops", "<", 0.9, on="ci", tol=TAU,
                          label=f"{d}: Kendall tau(median latency, FLOPs)") for d in DEVICES),
                  *(Check(f"hardware.devices.{d}.ceiling_gap_flops", ">", 0.0, on="ci", tol=TAU,
                          label=f"{d}: split-half tau minus tau(latency, FLOPs)") for d in DEVICES))),
    Claim("C2", "Surrogates that model a per-architecture noise level (MLP of mean and log-std, deep ensemble, "
                "conformal quantile GBM) are better calibrated than a homoscedastic GP, with 90 % intervals "
                "within +-5 points of nominal, on held-out architectures of both devices.",
          paper_value="surrogates with calibrated predictions and reliable uncertainty estimates faithfully model "
                      "the heteroscedastic noise of latency and energy (AutoGluon mean/log-std surrogates)",
          precondition=QUIET,
          checks=tuple(c for d in DEVICES for m in HETERO for c in (
              Check(f"surrogates.latency_{d}.area_gain_over_gp.{m}", ">", 0.0, on="ci", tol=AREA,
                    label=f"{d}: miscalibration area, GP minus {m}"),
              Check(f"surrogates.latency_{d}.{m}.coverage90", "in", (0.85, 0.95), on="ci", tol=Tol(abs=0.05),
                    label=f"{d}: {m} 90 % interval coverage over held-out splits (bootstrap over splits and "
                          "test architectures)"))),
          revised=REVISED_C2),
    Claim("C3", "Perplexity with weights inherited from the sandwich-trained supernet is rank-correlated with "
                "perplexity after standalone training of the same architectures (Kendall tau > 0, whole 95 % CI).",
          paper_value="supernet perplexity as a proxy for standalone training (value not verified here)",
          precondition=(Check("supernet.learned_margin", ">", 0.3, tol=Tol(abs=0.1),
                              label="unigram NLL minus the largest sub-network's NLL (nats)"),
                        Check("supernet.standalone_resolution", ">", 2.0, tol=Tol(abs=1.5),
                              label="standalone NLL range across architectures / init-seed difference")),
          checks=(Check("supernet.tau_inherited_standalone", ">", 0.0, on="ci",
                        label="Kendall tau(inherited NLL, standalone NLL)"),)),
    Claim("C4", "At a small budget, at least one guided multi-objective method beats random search on "
                "hypervolume with non-overlapping 95 % intervals over seeds, on both devices.",
          paper_value="evolutionary and BO methods above random search (hypervolume over time; numbers not verified)",
          precondition=tuple(Check(f"search.{d}.rs_regret_small_rel", ">=", 0.01, tol=Tol(abs=0.02),
                                   label=f"{d}: RS regret at the small budget / true HV (room to improve)")
                             for d in DEVICES),
          # The margin is a difference of two interval ends, each moving with its method's ten-seed spread
          # (sd of HV up to 0.05) and, on another CPU, with the measured latencies: abs 0.02 was set without
          # cross-machine data, and CI's CPU (stop 23) moved t2_b8's by 0.021 (-0.028 -> -0.007) with the
          # verdict unchanged. Now abs 0.05, the same as the surrogates' area gains.
          checks=tuple(Check(f"search.{d}.best_guided_margin_small", ">", 0.0, tol=Tol(abs=0.05),
                             label=f"{d}: best guided method's lower CI minus RS's upper CI (HV)")
                       for d in DEVICES)),
), device_bound=("C1", "C2"),
    # CI's recompute of these very measurements' verdicts (stop 24): t1_b1 mlp coverage 0.976 -> 0.853, Spearman(mean,
    # std) 0.961 -> 0.687; the seed-shift run of 2026-12-02 on this machine kept "not reproduced". On 2026-12-03 an
    # unplanned rerun of the hardware stages on the committed CPU (a shared module's code had changed) moved C2 the
    # other way: t1_b1 mlp coverage 0.82 -> 0.914, t2_b8 area gain over the GP 0.01 -> -0.077 [-0.126, -0.004].
    seen_moving=(("C2", "not reproduced", "inconclusive", "CI recompute, stop 24"),
                 ("C2", "inconclusive", "not reproduced", "a second measurement on the same CPU, 2026-12-03")),
    timings=("timings", "hardware", *(f"surrogates.latency_{d}" for d in DEVICES), "search",
           "supernet.tokens_per_s"))

# The old checks, as committed at 98394ae (mini; seed block +1 from reports/robustness.json there).
CHANGES = (
    ClaimChange("C1", "min over devices of split-half Jaccard within a device minus Jaccard between devices > 0 "
                      "(point estimate, no interval)",
                "not reproduced at the committed seeds, reproduced at seeds +1",
                "committed: -0.098 (within 0.667 / 0.419, between 0.517); seeds +1: +0.050 (within 0.813 / 0.750, "
                "between 0.700)", REVISED_C1, "98394ae"),
    ClaimChange("C2", "per device and heteroscedastic surrogate: 90 % interval coverage in [0.85, 0.95] (one held-out "
                      "split of 60 architectures, point estimate)",
                "reproduced at the committed seeds, not reproduced at seeds +1",
                "committed: t1_b1 mlp 0.930, ensemble 0.936, quantile 0.919; t2_b8 0.913, 0.936, 0.927. seeds +1: "
                "t1_b1 mlp 0.817 (fail), ensemble 0.912, quantile 0.910; t2_b8 0.893, 0.903, 0.857",
                REVISED_C2, "98394ae"),
    ClaimChange("C1", "precondition: per device, split-half Kendall tau of per-architecture median latency >= 0.8 "
                      "(point estimate)",
                "inconclusive in the committed run; flagged by CI's recompute (stop 24: verdict or metric moved)",
                "committed: t1_b1 0.751 [0.699, 0.798], t2_b8 0.728 [0.661, 0.789] (both below 0.8: gate failed)",
                REVISED_C1_GATE, "bd996d5"),
)
