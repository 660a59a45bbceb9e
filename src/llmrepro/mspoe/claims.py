"""mspoe claims; thresholds fixed before any run."""

from llmrepro.pipeline.claims import Check, Claim, ClaimSet

CLAIMS = ClaimSet("mspoe", (
    Claim("C1", "Lost in the middle: the baseline is less accurate when the gold item is in the middle of the "
                "context than at its ends.",
          paper_value="U-shaped accuracy over gold position (MDQA, KV retrieval; Liu et al.)",
          checks=(Check("baseline.dip", ">", 0.0, on="ci", label="acc(ends) - acc(middle), both tasks"),),
          note="Interval: bootstrap over examples within each gold position."),
    Claim("C2", "Ms-PoE (outlier-ordered heads, ratios in [1.2, 1.8], first two layers unchanged) raises mean "
                "accuracy and middle-position accuracy over the baseline, without training.",
          paper_value="up to +3.8 on ZeroSCROLLS; middle positions gain most in MDQA/KV (Fig. 1)",
          checks=(Check("ms_poe.mean_gain", ">", 0.0, on="ci", label="acc(Ms-PoE) - acc(baseline), paired"),
                  Check("ms_poe.middle_gain", ">", 0.0, on="ci", label="middle acc(Ms-PoE) - acc(baseline), paired"))),
    Claim("C3", "Per-head multi-scale ratios do at least as well as the best single uniform ratio "
                "(no loss of more than 5 points).",
          paper_value="uniform scaling helps up to a point, then hurts; Ms-PoE keeps more pretrained behaviour",
          checks=(Check("ms_poe.minus_best_uniform", ">", -0.05, on="ci",
                        label="acc(Ms-PoE) - acc(best uniform ratio), paired"),),
          note="The best uniform ratio is picked on the same examples, which favours it."),
))
