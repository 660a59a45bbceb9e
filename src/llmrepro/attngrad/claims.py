"""attngrad claims. Thresholds are the issue's, fixed before any run."""

from llmrepro.pipeline.claims import Check, Claim, ClaimSet

CLAIMS = ClaimSet("attngrad", (
    Claim("C1", "Below the threshold the gradient is almost linear in n: exact time grows like n^2, the "
                "polynomial-method gradient near-linearly, and the fast one wins from a crossover on, with "
                "error <= 1e-3.",
          paper_value="n^{1+o(1)} vs O(n^2 d) (Thm 1.6)",
          checks=(Check("runtime.slope_exact", "in", (1.8, 2.3), label="log-log slope, exact"),
                  Check("runtime.slope_fast", "<=", 1.3, label="log-log slope, fast"),
                  Check("runtime.fast_wins_from_crossover", "==", True, label="fast < exact for all n >= crossover"),
                  Check("runtime.max_rel_err", "<=", 1e-3, label="max relative error"))),
    Claim("C2", "The cost of the polynomial method is governed by c = B^2/ln n: the rank exponent alpha "
                "rises with c, is about constant in n, stays well below 1 for small c and reaches 1 (no "
                "sub-quadratic win) by c = 0.3.",
          paper_value="n^{1+o(1)} for B = o(sqrt(log n)); no n^{2-delta} for B = omega(sqrt(log n)) under SETH",
          checks=(Check("alpha.monotone_in_c", "==", True, label="alpha non-decreasing in c, every n"),
                  Check("alpha.max_spread_over_n", "<=", 0.2, label="max over c of alpha spread across n"),
                  Check("alpha.alpha_easy_max_over_n", "<", 0.7, label="alpha at c = 0.05"),
                  Check("alpha.hard_all_at_least_1_or_infeasible", "==", True,
                        label="alpha >= 1 or no rank <= 4n, for c >= 0.3")),
          note="SETH hardness cannot be tested empirically: this shows the polynomial method's cost blowing up, "
               "which is consistent with the lower bound, and a smooth crossover at finite n."),
    Claim("C3", "In the easy regime, gradient descent with the fast gradient reaches the exact descent's loss "
                "in less wall-clock time.",
          checks=(Check("training.time_ratio", "<", 1.0, label="fast time to exact's final loss / exact time"),)),
    Claim("C4", "Real LLM attention heads sit far outside the easy regime: every head's c = B^2/ln n is above "
                "the 0.3 threshold.",
          paper_value="(the notes expect c far above 0.3 for real models)",
          checks=(Check("heads.smollm2/shakespeare.c_min", ">", 0.3, label="min over heads of c, SmolLM2"),),
          note="B is taken from the q/k projections before RoPE, rescaled to the paper's exp(<a,b>/d) form."),
))
