"""cherryq claims. C1 and the first C2/C2b/C3 had the issue's thresholds, fixed before any run.
The review mends (issues 11 and 19) revised C2 and C3, retired C2b and registered C4; their
thresholds were written in a commit message before the rerun (see the page's "Claim changes")."""

from llmrepro.pipeline.claims import Check, Claim, ClaimSet, Tol

QAT_BITS = 2  # the tiny model's QAT width: RTN at the paper's 3 bits costs it under 5 % (see configs/mini.yaml)
BITS = 3  # the paper's width, for SmolLM2's PTQ
CODE_CHANGE = 0.03  # QAT has left the PTQ regime: at least this fraction of codes moved, in every run. The
# pilot (plain QAT, 2 bits, g128): 3.9 % after 60 steps at lr 5e-4; the first run's 40 steps at 2e-4: 1.8 %.
HS_RATIO = 1.5  # "clearly above random init": median over matrices of HS(trained) / HS(random init)

# Float-sensitive metrics without an interval: how far they may move (another CPU or thread count trains
# another tiny Llama) before `llmrepro verify` calls them a different result. No cross-CPU spread was measured;
# each bound is half the pilot's distance between the value and its threshold, so that a move within it
# leaves the precondition a margin.
RATIO_TOL = Tol(abs=0.013)  # RTN cost: pilot 1.077 at 2 bits (g128), threshold 1.05
CODE_TOL = Tol(abs=0.0045)  # code change: pilot 0.039, threshold 0.03
HS_TOL = Tol(rel=0.1)  # heterogeneity ratio: tiny about 1.1, SmolLM2 about 3 (first run), threshold 1.5:
# a tenth keeps both on their side


def rtn_hurts(metric: str, label: str, tol: Tol = RATIO_TOL) -> Check:
    return Check(metric, ">=", 1.05, label=f"ppl(RTN) / ppl(FP), {label}", tol=tol)


def heterogeneous(model: str, label: str) -> Check:
    return Check(f"hs.{model}.median_ratio_to_init", ">=", HS_RATIO,
                 label=f"{label}: median HS(trained) / HS(random init)", tol=HS_TOL)


QAT = f"qat.b{QAT_BITS}"
QAT_ENGAGED = (rtn_hurts(f"ptq_tiny.b{QAT_BITS}.rtn_ratio", f"tiny, {QAT_BITS} bits"),
               Check(f"{QAT}.code_change_min", ">=", CODE_CHANGE,
                     label="fraction of quantized codes QAT changed (least over runs)", tol=CODE_TOL))

C2_WHY = ("The first C2 (3 bits) and C2b (2 bits) compared CherryQ with baselines at the nominal width, so CherryQ had "
          "about 1 bit per weight more (1/32 cherries, groups of 32); their QAT (40 steps at lr 2e-4) changed under 2 % "
          "of the codes; and their intervals covered three QAT seeds with the calibration subset fixed, so C2b flipped "
          "when the seeds moved (issue 19; diagnosis below). Now: the paper's group size and a cherry fraction near its "
          "own where the matrices allow, at the lowest width where RTN costs the tiny model >= 5 % (at 3 bits it does "
          "not, at any group size), baselines at equal bits per weight, QAT long enough that codes change (a "
          "precondition), and intervals over replicates that each draw their own calibration subset and QAT data "
          "order. C2b is merged into this claim.")
C3_WHY = ("The first check ran where the tiny model lacks the property (impact heterogeneity barely above random "
          "init) and at settings (1/32 cherries, groups of 32) that inflate magnitude selection's scale effect, with a "
          "QAT that left the codes unchanged and intervals over three QAT seeds. Now: preconditions on heterogeneity "
          "and on code change, the paper's group size and a cherry fraction near its own, a magnitude control with "
          "scales taken before the cherries are removed (a PTQ row), and intervals over replicates.")

CLAIMS = ClaimSet("cherryq", (
    Claim("C1", "Parameter heterogeneity: the heterogeneity score of impact (the Fisher diagonal) exceeds that of "
                "weight magnitude in most matrices of both models, and exceeds the same architecture's at random init.",
          paper_value="impact HS mostly 1.5-10 (outliers ~100) vs magnitude HS ~1.1-1.5 (Fig. 2)",
          checks=(Check("hs.tiny.frac_impact_gt_magnitude", ">", 0.5, label="tiny: fraction of matrices, impact > |w|",
                        tol=Tol(abs=0.1)),
                  Check("hs.pretrained.frac_impact_gt_magnitude", ">", 0.5,
                        label="SmolLM2: fraction of matrices, impact > |w|", tol=Tol(abs=0.1)),
                  Check("hs.tiny.frac_impact_gt_init", ">", 0.5, label="tiny: fraction of matrices, trained > init",
                        tol=Tol(abs=0.1)),
                  Check("hs.pretrained.frac_impact_gt_init", ">", 0.5,
                        label="SmolLM2: fraction of matrices, trained > init", tol=Tol(abs=0.1)))),
    Claim("C2", f"At {QAT_BITS} bits (where RTN hurts the tiny model; at 3 bits it does not), CherryQ beats plain QAT "
                "and GPTQ at equal bits per weight, and GPTQ beats RTN.",
          paper_value="LLaMA2-7B 3-bit g128 C4 ppl: FP16 6.97, CherryQ 7.39, GPTQ 8.28, QAT 9.25; CherryQ closes 82 % "
                      "of the QAT gap",
          precondition=(*QAT_ENGAGED,
                        Check(f"{QAT}.equal_bits", "==", True,
                              label="the equal-bits baselines store at least CherryQ's bits per weight")),
          checks=(Check(f"{QAT}.cherryq_minus_qat_equal_bits", "<", 0.0, on="ci",
                        label="ppl(CherryQ) - ppl(QAT at equal bits), paired by replicate"),
                  Check(f"{QAT}.cherryq_minus_gptq_equal_bits", "<", 0.0, on="ci",
                        label="ppl(CherryQ) - ppl(GPTQ at equal bits), paired by calibration subset"),
                  Check(f"ptq_tiny.b{QAT_BITS}.gptq_minus_rtn", "<", 0.0, on="ci", label="ppl(GPTQ) - ppl(RTN)")),
          note="Each replicate draws its own calibration subset (impact, cherries, GPTQ's Hessians) and its own QAT "
               "data order; intervals are t intervals over replicates. The tiny Llama itself is one trained model.",
          revised=C2_WHY),
    Claim("C3", f"Under QAT, impact-selected cherries beat random and magnitude selection at equal budget "
                f"({QAT_BITS} bits).",
          paper_value="impact > magnitude in every setting (Sec. 6.4)",
          precondition=(*QAT_ENGAGED, heterogeneous("tiny", "tiny")),
          checks=(Check(f"{QAT}.impact_minus_random", "<", 0.0, on="ci", label="ppl(impact) - ppl(random), paired"),
                  Check(f"{QAT}.impact_minus_magnitude", "<", 0.0, on="ci",
                        label="ppl(impact) - ppl(magnitude), paired")),
          revised=C3_WHY),
    Claim("C4", f"Where the property exists (SmolLM2-135M, {BITS}-bit RTN), impact-selected cherries beat magnitude "
                "and random cherries at equal budget. Registered by the review mends before its rerun, on a "
                "calibration and evaluation split that the first SmolLM2 numbers did not use.",
          paper_value="impact > magnitude in every setting (Sec. 6.4)",
          # SmolLM2's 3-bit RTN ratio is in the hundreds (first run: 1,300): a relative bound
          precondition=(rtn_hurts(f"ptq_pretrained.b{BITS}.rtn_ratio", f"SmolLM2, {BITS} bits", Tol(rel=0.2)),
                        heterogeneous("pretrained", "SmolLM2")),
          checks=(Check(f"ptq_pretrained.b{BITS}.impact_minus_magnitude", "<", 0.0, on="ci",
                        label="log ppl(impact) - log ppl(magnitude)"),
                  Check(f"ptq_pretrained.b{BITS}.impact_minus_random", "<", 0.0, on="ci",
                        label="log ppl(impact) - log ppl(random)")),
          note="Intervals over calibration subsets (each its own impact estimate and random draw); magnitude "
               "selection reads no calibration data."),
))
