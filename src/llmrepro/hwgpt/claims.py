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
"""

from llmrepro.pipeline.claims import Check, Claim, ClaimSet, Tol

DEVICES = ("t1_b1", "t2_b8")
HETERO = ("mlp", "ensemble", "quantile")

TAU, AREA = Tol(abs=0.15), Tol(abs=0.05)

RELIABLE = tuple(Check(f"hardware.devices.{d}.split_half_tau.value", ">=", 0.8, tol=TAU,
                       label=f"{d}: split-half Kendall tau of per-architecture median latency")
                 for d in DEVICES)

QUIET = (Check("hardware.quiet", "==", True,
               label="machine quiet while measuring (<= 5 % of 1-thread passes lost > 20 % of their time to other "
                     "processes, median 1-min load <= 2.5)"),
         *(Check(f"hardware.devices.{d}.heteroscedasticity", ">", 0.0, on="ci", tol=Tol(abs=0.3),
                 label=f"{d}: Spearman(mean, std) of the repeats across architectures") for d in DEVICES))

CLAIMS = ClaimSet("hwgpt", (
    Claim("C1", "The Pareto sets (perplexity against latency) of the two devices differ, and latency is not a "
                "monotone function of FLOPs: Kendall tau clearly below 1 and below the measurement's own "
                "split-half reliability.",
          paper_value="an architecture that excels in latency on one device may not be optimal on another "
                      "(13 devices; qualitative)",
          precondition=RELIABLE,
          checks=(Check("hardware.pareto.jaccard_between", "<", 1.0, tol=Tol(abs=0.35),
                        label="Jaccard(Pareto set t1_b1, Pareto set t2_b8), measured sample"),
                  Check("hardware.pareto.jaccard_margin", ">", 0.0, tol=Tol(abs=0.5),
                        label="min over devices of split-half Jaccard within a device minus Jaccard between devices"),
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
              Check(f"surrogates.latency_{d}.{m}.coverage90", "in", (0.85, 0.95), tol=Tol(abs=0.05),
                    label=f"{d}: {m} 90 % interval coverage")))),
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
          checks=tuple(Check(f"search.{d}.best_guided_margin_small", ">", 0.0, tol=Tol(abs=0.02),
                             label=f"{d}: best guided method's lower CI minus RS's upper CI (HV)")
                       for d in DEVICES)),
), timings=("timings", "hardware", *(f"surrogates.latency_{d}" for d in DEVICES), "search",
           "supernet.tokens_per_s"))
