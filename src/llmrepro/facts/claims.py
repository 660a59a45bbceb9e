"""facts claims. C1 and C6 keep the checks fixed before the first run. C2-C5 were revised
after review (issue 11) and their tests fixed before the rerun; `CHANGES` records why, and the
page shows the old checks with their verdicts and numbers (src/llmrepro/facts/before_review.json).
After the seed shift of stop 26, every seed runs in a world of its own (ONE_WORLD_PER_SEED), fixed before
the rerun; the checks and thresholds did not change."""

import json
from pathlib import Path

from llmrepro.pipeline.claims import Check, Claim, ClaimSet
from llmrepro.report.pages import ClaimChange, with_ci

FORGETS = Check("claims.forgetting_memorization", ">", 0.0, on="ci",
                label="memorization decay a (power law; mean of paraphrase, duplication)")
V = "claims.verbatim_effectivity"

# Why the review (issue 11) revised C2-C5; the old checks are in before_review.json.
REVIEW_REASONS = {
    "C2": "The memorization and semantic probes differed only by a template that was as common in the background "
          "as the others, every scenario was pooled although the paper's gap vanishes under paraphrase, and the "
          "effectivities were not required to be positive.",
    "C2b": "Split from the old C2, whose semantic-minus-composition check passed only because composition "
           "effectivity was negative: each effectivity must now be positive first.",
    "C3": "A fixed R² threshold on a curve fitted over evenly spaced t, dominated by its flat noisy tail, is "
          "replaced by the official code's comparison of the two decay laws, on log-spaced bins.",
    "C4": "Underpowered and on a horizon too short to fit a decay: now more entities and seeds, and a "
          "precondition that forgetting is measured at all.",
    "C5": "The old batch contrast, on few seeds, could not resolve the effect: now a contrast of at least 8x at "
          "mini scale (the paper's is 16x), more seeds, and a precondition that both arms forget.",
}

# The same checks with every seed in one shared world and its one pretrained model: reports/facts at d78a1f6
# (seeds 0-3, world and model seed 0) and its seed-shift run (seeds 4-7, world and model seed 1).
ONE_WORLD = "d78a1f6"
ONE_WORLD_PER_SEED = (
    "The seed shift (stop 26) moved C2 from reproduced to inconclusive: E(mem) - E(sem) stayed at 0.030 / 0.029, "
    "but its per-seed spread grew fivefold (sd 0.012 -> 0.063), and composition effectivity fell from -0.04..0.09 "
    "to -0.15..-0.09. All four seeds had shared one world and one pretrained model, so an interval over seeds "
    "never saw how worlds differ, which is what moved. Now seed i runs in world i on models pretrained there "
    "(facts.world_seeds), so the interval over seeds spans worlds. Checks and thresholds unchanged.")
OWN_WORLD = "Since stop 26 each seed runs in a world of its own (facts.world_seeds); the check is unchanged."

CLAIMS = ClaimSet("facts", (
    Claim("C1", "Each encounter gives an immediate gain: mean memorization effectivity is positive.",
          paper_value="micro-acquisitions after every injection (Fig. 2)",
          checks=(Check("claims.effectivity_memorization", ">", 0.0, on="ci",
                        label="memorization effectivity (nats, control-adjusted)"),),
          note="Effectivity is the window maximum minus the pre-injection value; the same statistic on never-"
               "injected control probes is subtracted, since a window maximum of noise is positive.",
          revised=OWN_WORLD),
    Claim("C2", "On verbatim repetition (duplication, once), memorization effectivity exceeds semantic "
                "generalization.",
          paper_value="memorization > semantic; the gap vanishes under paraphrase",
          precondition=(Check(f"{V}.memorization", ">", 0.0, on="ci", label="E(mem) > 0, duplication and once"),
                        Check(f"{V}.semantic", ">", 0.0, on="ci", label="E(sem) > 0, duplication and once")),
          checks=(Check("claims.mem_minus_sem", ">", 0.0, on="ci", label="E(mem) - E(sem), duplication and once"),),
          revised=REVIEW_REASONS["C2"] + " " + OWN_WORLD),
    Claim("C2b", "Semantic generalization effectivity exceeds compositional generalization.",
          paper_value="semantic > composition",
          precondition=(Check(f"{V}.semantic", ">", 0.0, on="ci", label="E(sem) > 0, duplication and once"),
                        Check(f"{V}.composition", ">", 0.0, on="ci", label="E(comp) > 0, duplication and once")),
          checks=(Check("claims.sem_minus_comp", ">", 0.0, on="ci", label="E(sem) - E(comp), duplication and once"),),
          revised=REVIEW_REASONS["C2b"] + " " + OWN_WORLD),
    Claim("C3", "Forgetting follows a power law: the power law fits retainability at least as well as an "
                "exponential decay.",
          paper_value="R linear in log t, R² > 0.8 (Fig. 4); the official fit_models compares the two by RMSE",
          precondition=(FORGETS,),
          checks=(Check("claims.exp_minus_power_memorization", ">=", 0.0, on="ci",
                        label="held-out RMSE(exponential) - RMSE(power law), memorization"),),
          note="Both fits have two parameters and are fitted to R in log-spaced bins of t; the error is the "
               "root mean squared error on each bin when it is left out of the fit.",
          revised=REVIEW_REASONS["C3"] + " " + OWN_WORLD),
    Claim("C4", "Duplicated injection forgets faster than paraphrased injection.",
          paper_value="paraphrase forgets slower (Table 2)",
          precondition=(FORGETS,),
          checks=(Check("claims.dup_minus_para_decay", ">", 0.0, on="ci", label="a(dup) - a(para), memorization"),),
          revised=REVIEW_REASONS["C4"] + " " + OWN_WORLD),
    Claim("C5", "A smaller batch forgets faster (larger decay constant) than a larger one, at equal learning rate "
                "and equal injected fraction.",
          paper_value="batch 128 vs 2048: larger decay constants, thresholds shrink by dozens of times",
          precondition=(FORGETS,
                        Check("claims.forgetting_memorization_large_batch", ">", 0.0, on="ci",
                              label="memorization decay a, large batch")),
          checks=(Check("claims.small_minus_large_batch_decay", ">", 0.0, on="ci",
                        label="a(batch B) - a(large batch), memorization"),),
          revised=REVIEW_REASONS["C5"] + " " + OWN_WORLD),
    Claim("C6", "The larger model has higher effectivity.",
          paper_value="OLMo-7B > OLMo-1B",
          checks=(Check("claims.base_minus_small_model_effectivity", ">", 0.0, on="ci",
                        label="E_mem(base) - E_mem(small model)"),),
          revised=OWN_WORLD),
))

# Old claim id -> the claims the review (issue 11) put in its place; C1 and C6 it left alone.
REPLACED_BY = {"C2": ("C2", "C2b"), "C3": ("C3",), "C4": ("C4",), "C5": ("C5",)}
BEFORE_REVIEW = Path(__file__).parent / "before_review.json"  # the committed results the review read


def _changes() -> tuple[ClaimChange, ...]:
    """Every revised claim's old checks, verdicts and numbers, read from the committed results the
    review saw (before_review.json), never copied by hand."""
    before = json.loads(BEFORE_REVIEW.read_text())
    out = []
    for old in before["claims"]:
        for cid in REPLACED_BY.get(old["id"], ()):
            for k in old["checks"]:
                out.append(ClaimChange(cid, f"{old['id']}: {k['test']}", old["verdict"],
                                       with_ci(k["measured"], k.get("ci")),
                                       REVIEW_REASONS[cid], before["commit"]))
    return tuple(out)


_ONE_WORLD_RESULTS = (  # claim, committed verdict, shifted verdict, committed numbers, shifted numbers
    ("C1", "reproduced", "reproduced", "0.23 [0.192, 0.268]", "0.269 [0.223, 0.315]"),
    ("C2", "reproduced", "inconclusive", "0.0298 [0.0111, 0.0485]", "0.0289 [-0.0707, 0.128]"),
    ("C2b", "inconclusive", "inconclusive", "0.185 [0.0504, 0.32]", "0.373 [0.233, 0.512] (E(comp) <= 0)"),
    ("C3", "reproduced", "reproduced", "0.0854 [0.0706, 0.1]", "0.089 [0.0556, 0.122]"),
    ("C4", "inconclusive", "inconclusive", "-0.0128 [-0.105, 0.079]", "0.00257 [-0.0518, 0.0569]"),
    ("C5", "inconclusive", "inconclusive", "0.00111 [-0.106, 0.108]", "0.00787 [-0.0657, 0.0815]"),
    ("C6", "reproduced", "reproduced", "0.104 [0.0604, 0.147]", "0.137 [0.0551, 0.22]"),
)

CHANGES = _changes() + tuple(
    ClaimChange(cid, "the same check, every seed in one shared world", f"committed seeds: {a}; shifted seeds: {b}",
                f"committed seeds: {x}; shifted seeds: {y}", ONE_WORLD_PER_SEED, ONE_WORLD)
    for cid, a, b, x, y in _ONE_WORLD_RESULTS)
