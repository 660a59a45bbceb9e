"""sami claims. C1-C4 are the issue's, with its thresholds; C5 (each principle moves in its
constitution's direction) was added with them, before the claim run, because SAMI's
objective is blind to the sign of the link. Every claim that needs SAMI to act on a link
has the gate as its precondition: the base models' link for each principle, with the lower
end of its 95 % interval over seeds above zero, and an instruct model (the base trained
further on adherent data) that can express the desired constitution (coverage >= 0.8).

Revised after the seed shift of issue 19 (the old checks, verdicts and numbers at both seed
blocks are on the page, read from before_seed_shift.json): see SEED_SHIFT."""

import json
from pathlib import Path

from llmrepro.pipeline.claims import Check, Claim, ClaimSet, Tol
from llmrepro.report.pages import ClaimChange, fmt, with_ci

# The instruct model's coverage comes from sampled responses and has no interval over seeds, so
# `verify` allows it to move by about two standard errors over posts (pilot: 0.012-0.028).
GATE_TOL = Tol(abs=0.05)
GATE = (Check("gate.brevity_link", ">", 0.0, on="ci",
              label="base link, brevity: fillers/fact (long − brief), over seeds"),
        Check("gate.coverage_link", ">", 0.0, on="ci",
              label="base link, completeness: coverage (all − some), over seeds"),
        Check("gate.instruct_coverage_min", ">=", 0.8, tol=GATE_TOL,
              label="competence: min over seeds of the instruct model's coverage under `brief all`"))

# Why each claim changed at the seed shift (issue 19); the page's "Claim changes" table has the old
# numbers at both seed blocks, and its notes the measured effect of the shared held-out set.
HELDOUT = ("Each seed now draws its own held-out posts: one set was shared by all seeds, a common offset the interval "
           "over seeds did not cover (measured small, see the notes).")
GATE_WHY = ("The gate was the minimum over seeds of each seed's lower bound over posts: it fails more often the more "
            "seeds run, and it sat on zero at both seed blocks. Each seed trains its own base, so the links differ "
            "between seeds by more than the posts explain; the gate now reads the link with a t interval over seeds, "
            "like the claims. Threshold unchanged.")
SEED_SHIFT = {
    "C1": GATE_WHY + " " + HELDOUT,
    "C2": ("`win rate >= 0.60` was read on the mean over seeds, with no interval: at seeds 5-9 the mean failed it while "
           "the interval held 0.60, so the verdict was 'not reproduced' on a point estimate. It is now read on the "
           "interval over seeds. Thresholds unchanged. " + GATE_WHY + " " + HELDOUT),
    "C3": GATE_WHY + " " + HELDOUT,
    "C4": HELDOUT + " The check is unchanged: the two seed blocks differ by about what two draws of five seeds can "
          "(the spread over seeds is wide), so the verdict may stay fragile.",
    "C5": GATE_WHY + " " + HELDOUT,
}

CLAIMS = ClaimSet("sami", (
    Claim("C1", "The conditional MI lower bound increases from iteration 0 (the base) to iteration 3.",
          paper_value="rises over iterations (Fig. 2a; TL;DR: from 0.10 for mistral-7b)",
          precondition=GATE,
          checks=(Check("claims.mi_gain", ">", 0.0, on="ci", label="MI(it. 3) − MI(base), nats, over seeds"),),
          note="A diagnostic, not the success test: the bound is blind to which behaviour goes with which "
               "constitution (see C5).", revised=SEED_SHIFT["C1"]),
    Claim("C2", "SAMI's responses win against the base model's under the desired constitution at iteration 3.",
          paper_value="66 % and 77 % (HH-RLHF, length-corrected); 70.8 % (TL;DR, mistral-7b, weak writer)",
          precondition=GATE,
          checks=(Check("claims.win_it3", ">=", 0.60, on="ci", label="win rate vs base at it. 3, over seeds"),
                  Check("claims.win_it3", ">", 0.5, on="ci", label="win rate vs base at it. 3, over seeds")),
          revised=SEED_SHIFT["C2"],
          note="Programmatic judge of the principles' content (coverage − wrong facts − fillers per fact), random "
               "A/B order, τ = 1 for the training data and the evaluation; τ = 0 and a noisy judge are reported "
               "beside it."),
    Claim("C3", "SAMI beats self-SFT on the same self-generated data, on the MI bound and on the win rate.",
          paper_value="(a control the paper does not run)",
          precondition=GATE,
          checks=(Check("claims.sami_minus_sft_mi", ">", 0.0, on="ci", label="MI: SAMI − self-SFT at it. 3, paired"),
                  Check("claims.sami_minus_sft_win", ">", 0.0, on="ci",
                        label="win vs base: SAMI − self-SFT at it. 3, paired")),
          note="Same queries per step, steps, learning rate and seeds; self-SFT maximizes the token log-likelihood "
               "of each response under the constitution it was sampled for.", revised=SEED_SHIFT["C3"]),
    Claim("C4", "The small step count is the regularizer: perplexity stays within +10 % of the base's at the "
                "paper-like schedule, and an over-trained run degenerates.",
          paper_value="over-training gives gibberish; a KL penalty did not help",
          checks=(Check("claims.ppl_copy_ratio_it3", "<=", 1.10, on="ci",
                        label="copy perplexity, SAMI it. 3 / base"),
                  Check("claims.overtrain_ppl_copy_ratio", ">", 1.10, on="ci",
                        label="copy perplexity, over-trained / base")),
          note="Held-out perplexity of the summaries' fact words among the fact words (which fact comes next): "
               "sharpening the constitution link leaves it unchanged, copying errors raise it. The corpus "
               "perplexity, which the link's sharpening raises by design, is reported beside it.",
          revised=SEED_SHIFT["C4"]),
    Claim("C5", "SAMI moves each principle in its constitution's direction: both links grow, and under the desired "
                "constitution fillers fall and coverage rises.",
          paper_value="(the paper reports principle-level win rates; its pilot risk: the opposite of a principle)",
          precondition=GATE,
          checks=(Check("claims.brevity_gap_gain", ">", 0.0, on="ci", label="brevity link, it. 3 − base"),
                  Check("claims.coverage_gap_gain", ">", 0.0, on="ci", label="completeness link, it. 3 − base"),
                  Check("claims.desired_fillers_change", "<", 0.0, on="ci",
                        label="fillers/fact under `brief all`, it. 3 − base"),
                  Check("claims.desired_coverage_change", ">", 0.0, on="ci",
                        label="coverage under `brief all`, it. 3 − base")),
          revised=SEED_SHIFT["C5"]),
))

BEFORE = Path(__file__).parent / "before_seed_shift.json"  # claims.json at both seed blocks, before the revision


def _changes() -> tuple[ClaimChange, ...]:
    """One row per revised claim: its old checks (precondition included), verdicts and numbers at
    both seed blocks, read from the saved claims documents, never copied by hand."""
    before = json.loads(BEFORE.read_text())
    blocks = before["blocks"]
    out = []
    for c in CLAIMS.claims:
        if not c.revised:
            continue
        old = [(kind, i, k["test"]) for kind in ("precondition", "checks")
               for i, k in enumerate(blocks[next(iter(blocks))][c.id][kind])]
        tests = " · ".join(("precondition: " if kind == "precondition" else "") + t for kind, _, t in old)
        verdicts = "; ".join(f"{b}: {d[c.id]['verdict']}" for b, d in blocks.items())
        nums = "; ".join(f"{b}: " + " · ".join(_num(d[c.id][kind][i]) for kind, i, _ in old) for b, d in blocks.items())
        out.append(ClaimChange(c.id, tests, verdicts, nums, c.revised, before["commit"]))
    return tuple(out)


def _num(k: dict) -> str:
    return f"{with_ci(k['measured'], k.get('ci'))} ({k['outcome']})"


def heldout_note() -> str:
    """The diagnosis behind HELDOUT, from the numbers saved with the old claims."""
    d = json.loads(BEFORE.read_text())["heldout_diagnostic"]
    parts = []
    for s, by_world in d["runs"].items():
        r = [v["ppl_copy_ratio"] for v in by_world.values()]
        w = [v["win_vs_base"] for v in by_world.values()]
        parts.append(f"seed {s}: copy-perplexity ratio {fmt(min(r))}–{fmt(max(r))}, win rate {fmt(min(w))}–{fmt(max(w))}")
    return (f"Why the held-out posts are now drawn per seed, measured before that change: {d['how']} Over "
            f"{len(next(iter(d['runs'].values())))} held-out sets: " + "; ".join(parts) + ". Compare the spread over "
            "seeds (`per_seed` in metrics.json): the shared set was a small part of the variance.")


CHANGES = _changes()
