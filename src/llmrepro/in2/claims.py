"""in2 claims. The margins are the issue's (C2: 10 points of Gap, Avg not lower, the
middle third at least 3x chance; C3: 2 points), C4 reuses C2's margin; preconditions
and seeds were fixed after the pilot and before the claim run. Issue 19 revised what
the intervals are over (every claim, thresholds unchanged), fixed before the rerun."""

import json
from pathlib import Path

from llmrepro.in2.data import STYLES
from llmrepro.pipeline.claims import Check, Claim, ClaimSet
from llmrepro.report.changes import block_changes

# Issue 19: C2 went from reproduced to inconclusive when the seeds moved (backward Gap reduction 0.323
# [0.304, 0.342] -> 0.214 [0.094, 0.333]). The t-interval was over 4 fine-tuning seeds that all started from
# one stage-1 model and were all probed on one set of held-out contexts: the variance between stage-1 models
# and between probe sets was common to every seed and outside the interval. Now each seed has both.
REVISED = ("The interval is now over 3 seeds that each have their own stage-1 retrieval model and their own "
           "held-out probe contexts (before: 4 fine-tuning seeds from one shared stage-1 model, probed on one "
           "shared probe set, so the variance between stage-1 models and between probe sets was outside the "
           "interval, and the seed shift of issue 19 moved C2's verdict). Same checks and thresholds; fewer seeds "
           "(3 instead of 4 at mini scale) so that a stage-1 model per seed fits the compute budget. Fixed before "
           "the rerun.")

# For `llmrepro verify`, every estimate must come back inside its committed 95 % interval (the default).
# The abs bounds declared here before (0.05 on accuracy differences, 1.6 on ratios to chance, 0.01 on the
# short-context difference; a guess that float differences flip a few greedy answers) were tighter than
# the spread between seeds: on another CPU (Zen 1 against the Zen 5 that made the results, 2026-12-02,
# training also moved from two torch threads to one) `vs_natural.backward.avg_gain` moved 0.353 -> 0.539,
# `c1.backward` -0.113 -> -0.024 and `arms.natural.backward.ends_over_chance` 17.9 -> 13.5, each inside its
# committed interval, every verdict unchanged.

GATE = Check("stage1.gate.passed", "==", True, label="stage 1 passed its retrieval gate")


def like_for_like(arm: str) -> tuple[Check, ...]:
    return (Check(f"like_for_like.{arm}.same_steps", "==", True, label=f"{arm} and IN2: same steps"),
            Check(f"like_for_like.{arm}.token_ratio", "in", [0.97, 1.03],
                  label=f"tokens seen, {arm} / IN2 (within 3 %)"))


def retrieves_at_ends(arm: str) -> tuple[Check, ...]:
    return tuple(Check(f"arms.{arm}.{s}.ends_over_chance", ">=", 3.0,
                       label=f"{s}: {arm} retrieves at the ends (first and last buckets ≥ 3x chance)")
                 for s in STYLES)


def flatter(arm: str) -> tuple[Check, ...]:
    """IN2 against `arm`: a lower Gap by 10 points, no lower Avg, a middle well above chance."""
    return tuple(c for s in STYLES for c in (
        Check(f"vs_{arm}.{s}.gap_reduction", ">", 0.10, on="ci",
              label=f"{s}: Gap({arm}) − Gap(IN2), paired"),
        Check(f"vs_{arm}.{s}.avg_gain", ">=", 0.0, on="ci", label=f"{s}: Avg(IN2) − Avg({arm}), paired"),
        Check(f"arms.in2.{s}.middle_over_chance", ">=", 3.0, on="ci",
              label=f"{s}: IN2 middle-third accuracy / chance")))


CLAIMS = ClaimSet("in2", (
    Claim("C1", "Without information-intensive training the model is lost in the middle: accuracy in the middle "
                "third of the context is below accuracy at its two ends.",
          paper_value="Mistral-7B-Instruct-v0.2: U-shaped VaL curves, Gap 32.1 / 59.5 / 77.0 (document / code / "
                      "database)",
          precondition=(GATE, *retrieves_at_ends("natural")),
          checks=tuple(Check(f"c1.{s}", ">", 0.0, on="ci",
                             label=f"{s}: natural arm, mean(first, last bucket) − middle third") for s in STYLES),
          revised=REVISED,
          note="Natural arm: contexts shorter than at test (as in instruction data), answers mostly in the first or "
               "last records. Interval: Student-t over seeds (each its own stage-1 model and probe set)."),
    Claim("C2", "IN2 training (long contexts, answers at uniformly random positions, integration items) removes the "
                "position bias without lowering average accuracy, for every probe style.",
          paper_value="VaL Avg / Gap: Mistral 47.3 / 56.2 → FILM-7B 85.9 / 13.9; Gap falls by 26-60 points per task",
          precondition=(GATE, *like_for_like("natural"),
                        *(Check(f"arms.natural.{s}.gap", ">", 0.10, on="ci",
                                label=f"{s}: the natural arm is position-biased (Gap > 0.10)") for s in STYLES)),
          checks=flatter("natural"),
          revised=REVISED,
          note="The middle-third check guards against a flat curve at chance, which would pass a Gap-only test for "
               "the wrong reason. Same steps; the token budget per step is the same, so the natural arm's shorter "
               "contexts buy it more rows and more answers, not fewer tokens."),
    Claim("C3", "IN2 training keeps short-context skills: short-context accuracy is at most 2 points below the "
                "natural arm's.",
          paper_value="MMLU 59.3 → 59.2, BoolQ 85.4 → 87.7, ... (short tasks kept)",
          precondition=(GATE, Check("arms.natural.short.value", ">=", 0.5,
                                    label="natural arm's short-context accuracy ≥ 0.5 (retrieval works there)")),
          checks=(Check("c3.short_diff", ">", -0.02, on="ci",
                        label="short-context accuracy, IN2 − natural, paired (mean over styles)"),),
          revised=REVISED,
          note="One-sided, as the paper's claim is that nothing is lost; short contexts are the stage-1 length."),
    Claim("C4", "The cause is where the supervision sits: with the same context lengths, steps and tokens, answers "
                "at uniformly random positions give a flatter curve than answers at the ends (the paper's "
                "hypothesis, tested by ablation).",
          paper_value="hypothesis: lost-in-the-middle comes from too little explicit supervision that any position "
                      "can hold crucial information (no such ablation in the paper)",
          precondition=(GATE, *like_for_like("natural_long"), *retrieves_at_ends("natural_long")),
          checks=tuple(Check(f"vs_natural_long.{s}.gap_reduction", ">", 0.10, on="ci",
                             label=f"{s}: Gap(ends-biased, long) − Gap(IN2), paired") for s in STYLES),
          revised=REVISED,
          note="Ablation arm: IN2's context lengths, but answers mostly in the first or last records and no "
               "integration items."),
), timings=("stage1.cpu_seconds", "stage1.tokens_per_s", "arms.*.cpu_seconds"))

BEFORE = Path(__file__).parent / "before_revision.json"  # reports/in2/claims.json at both seed blocks, before


# Every check as it stood before, with its verdict and numbers at both seed blocks (never copied by hand)
CHANGES = block_changes(json.loads(BEFORE.read_text()), "t-interval over 4 fine-tuning seeds from one stage-1 model, "
                        "one probe set", {c.id: c.revised for c in CLAIMS.claims if c.revised})
