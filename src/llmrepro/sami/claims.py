"""sami claims. C1-C4 are the issue's, with its thresholds; C5 (each principle moves in its
constitution's direction) was added with them, before the claim run, because SAMI's
objective is blind to the sign of the link. Every claim that needs SAMI to act on a link
has the gate as its precondition: the base model's link for each principle, in every seed,
with the lower end of its 95 % interval above zero, and an instruct model (the base trained
further on adherent data) that can express the desired constitution (coverage >= 0.8)."""

from llmrepro.pipeline.claims import Check, Claim, ClaimSet, Tol

# Gate statistics come from sampled responses of trained models: no interval over seeds, so
# `verify` allows them to move by about two standard errors over posts (pilot: 0.012-0.028).
GATE_TOL = Tol(abs=0.05)
GATE = (Check("gate.brevity_min_lower", ">", 0.0, tol=GATE_TOL,
              label="base link, brevity: min over seeds of the lower 95% bound of fillers/fact (long − brief)"),
        Check("gate.coverage_min_lower", ">", 0.0, tol=GATE_TOL,
              label="base link, completeness: min over seeds of the lower 95% bound of coverage (all − some)"),
        Check("gate.instruct_coverage_min", ">=", 0.8, tol=GATE_TOL,
              label="competence: min over seeds of the instruct model's coverage under `brief all`"))

CLAIMS = ClaimSet("sami", (
    Claim("C1", "The conditional MI lower bound increases from iteration 0 (the base) to iteration 3.",
          paper_value="rises over iterations (Fig. 2a; TL;DR: from 0.10 for mistral-7b)",
          precondition=GATE,
          checks=(Check("claims.mi_gain", ">", 0.0, on="ci", label="MI(it. 3) − MI(base), nats, over seeds"),),
          note="A diagnostic, not the success test: the bound is blind to which behaviour goes with which "
               "constitution (see C5)."),
    Claim("C2", "SAMI's responses win against the base model's under the desired constitution at iteration 3.",
          paper_value="66 % and 77 % (HH-RLHF, length-corrected); 70.8 % (TL;DR, mistral-7b, weak writer)",
          precondition=GATE,
          checks=(Check("claims.win_it3", ">=", 0.60, label="win rate vs base at it. 3, mean over seeds"),
                  Check("claims.win_it3", ">", 0.5, on="ci", label="win rate vs base at it. 3, over seeds")),
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
               "of each response under the constitution it was sampled for."),
    Claim("C4", "The small step count is the regularizer: perplexity stays within +10 % of the base's at the "
                "paper-like schedule, and an over-trained run degenerates.",
          paper_value="over-training gives gibberish; a KL penalty did not help",
          checks=(Check("claims.ppl_copy_ratio_it3", "<=", 1.10, on="ci",
                        label="copy perplexity, SAMI it. 3 / base"),
                  Check("claims.overtrain_ppl_copy_ratio", ">", 1.10, on="ci",
                        label="copy perplexity, over-trained / base")),
          note="Held-out perplexity of the summaries' fact words among the fact words (which fact comes next): "
               "sharpening the constitution link leaves it unchanged, copying errors raise it. The corpus "
               "perplexity, which the link's sharpening raises by design, is reported beside it."),
    Claim("C5", "SAMI moves each principle in its constitution's direction: both links grow, and under the desired "
                "constitution fillers fall and coverage rises.",
          paper_value="(the paper reports principle-level win rates; its pilot risk: the opposite of a principle)",
          precondition=GATE,
          checks=(Check("claims.brevity_gap_gain", ">", 0.0, on="ci", label="brevity link, it. 3 − base"),
                  Check("claims.coverage_gap_gain", ">", 0.0, on="ci", label="completeness link, it. 3 − base"),
                  Check("claims.desired_fillers_change", "<", 0.0, on="ci",
                        label="fillers/fact under `brief all`, it. 3 − base"),
                  Check("claims.desired_coverage_change", ">", 0.0, on="ci",
                        label="coverage under `brief all`, it. 3 − base"))),
))
