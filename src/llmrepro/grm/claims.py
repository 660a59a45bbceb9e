"""grm claims. Thresholds, the primary OOD set and the seed counts were fixed after the pilot (which
showed the precondition and a latent quality signal in the frozen read-out) and before the claim
run; the C1 margin (2 points) is the issue's. The intervals were revised twice after seed-shift runs
(issue 19): CHANGES keeps the checks as they were, with their verdicts and numbers at both seed blocks."""

from llmrepro.pipeline.claims import Check, Claim, ClaimSet, Tol
from llmrepro.report.pages import ClaimChange

# The mechanism's preconditions: BT overfits the shortcut, and the frozen read-out state carries a
# latent quality signal (without one no reward model can generalize, so GRM could not either).
OVERFITS = (Check("pre.bt_id", ">=", 0.8, label="BT accuracy on ID pairs (the marker tracks quality)"),
            Check("pre.bt_anti", "<=", 0.5, label="BT accuracy on ID pairs with the marker reversed"))
SIGNAL = (Check("pre.frozen_primary", ">", 0.5, on="ci",
                label="frozen-backbone RM on the primary OOD set (latent quality signal)"),)

# Why the intervals of every claim changed (issue 19), fixed before the rerun that produced their first results.
WORLDS = ("The seed shift moved C3 from inconclusive to not reproduced: GRM-SFT - margin went from +0.015 "
          "[-0.026, 0.054] to -0.076 [-0.152, -0.007], GRM-SFT - frozen from -0.035 [-0.090, 0.018] to -0.153 "
          "[-0.231, -0.081]. The intervals resampled seeds and test items of one synthetic world (one few-shot "
          "prefix, i.e. one instruct model, one training pool, one draw of test items and BoN prompts), shared by "
          "all 20 seeds. Within each world the two halves of the seeds agreed (GRM-SFT - margin +0.009 / +0.020 in "
          "one world, -0.070 / -0.082 in the other); between the worlds the trained reward models' accuracy on the "
          "copy task fell (GRM-SFT 0.83 -> 0.62) while the frozen one's rose (0.85 -> 0.94): a world effect the "
          "interval never saw. Now every seed trains and is scored in one of several worlds (4 seeds each, the "
          "same 20 seeds and reward models), and every interval, of C1-C4 alike, is a t-interval over world "
          "means. Thresholds unchanged.")

# Why every interval gained a floor (issue 19, after the seed shift of 2026-12-03; no rerun needed: the runs of both
# seed blocks were in the DVC cache, and the new intervals were computed on them after the change was made).
FLOOR = ("The seed shift moved C1, C3 and C4 from not reproduced to inconclusive. The estimates moved less than the "
         "intervals did: GRM-SFT - frozen was -0.079 [-0.113, -0.046] and -0.063 [-0.200, 0.075], the C1 gain -0.042 "
         "[-0.068, -0.015] and +0.0125 [-0.127, 0.152]. A t-interval over four world means estimates its width from "
         "3 degrees of freedom, and 20 test items per set quantize a world mean in steps of 1/60: three of four "
         "committed C1 world means were equal, so the width came out 5x narrower than at the next seed block. Each "
         "world mean's variance is now floored at its own sampling variance over seeds and test items (a two-way "
         "ANOVA estimate; the modified Hartung-Knapp interval of meta-analyses with few studies). This makes the "
         "intervals conservative: in simulations of this design the plain interval covered 95 % and the floored "
         "one 98-100 %. A first version counted the residual variance twice (about 20 % wider); it was replaced by "
         "the unbiased estimate after a calibration check against the two seed blocks (which printed its intervals, "
         "so the verdicts they implied could be read off); the replacement narrows the intervals. Thresholds "
         "unchanged.")

# Why C1's margin and ID checks read their intervals (after the seed shift of stop 25, before the rerun).
MARGIN_ON_CI = ("C1's 2-point margin and its ID non-inferiority bound were judged on point values: the committed "
                "gain -0.034 with its interval [-0.131, 0.062] around the margin read as not reproduced, and the "
                "seed shift's +0.047 [-0.085, 0.179] as inconclusive. A point below the margin with an interval "
                "that holds it is no evidence against the claim; as C4's final-gold check already was, both are now "
                "judged on their whole 95% CI (the separate 'gain > 0' check is implied and dropped). Thresholds "
                "unchanged.")

CLAIMS = ClaimSet("grm", (
    Claim("C1", "A text-generation (SFT) regularizer on the shared hidden states raises OOD preference accuracy "
                "over a plain Bradley-Terry reward model, without losing ID accuracy.",
          paper_value="Gemma-2B, 40K pairs: HHH 70.3 -> 78.7, MT-Bench 69.1 -> 73.0; 400K: HHH 73.4 -> 79.8 "
                      "(UF ID 68.8 -> 71.5)",
          precondition=OVERFITS + SIGNAL,
          checks=(Check("c1.gain_primary", ">=", 0.02, on="ci",
                        label="acc(GRM-SFT) - acc(BT), primary OOD set, paired"),
                  Check("c1.gain_id", ">=", -0.01, on="ci", label="acc(GRM-SFT) - acc(BT) on ID pairs")),
          note="Primary OOD set (pre-registered): unseen tasks, no marker on either response. Intervals: "
               "t-interval over world means (each world's mean over its seeds and test items), each world mean's "
               "variance floored at its own sampling variance; GRM and BT share seeds, worlds, training pairs and "
               "the initial head.",
          revised=WORLDS + " " + MARGIN_ON_CI + " " + FLOOR),
    Claim("C2", "The OOD gain is larger when preference data is scarce.",
          paper_value="HHH gain +8.4 at 40K pairs against +6.4 at 400K",
          precondition=(Check("pre.bt_anti_smallest", "<=", 0.5,
                              label="BT, marker reversed, at the smallest set size"),
                        Check("pre.bt_anti_largest", "<=", 0.5, label="BT, marker reversed, at the largest set size"),
                        *SIGNAL),
          checks=(Check("c2.diff", ">", 0.0, on="ci",
                        label="gain(smallest size) - gain(largest size), primary OOD set"),),
          revised=WORLDS + " " + FLOOR),
    Claim("C3", "GRM beats the margin, label-smoothing and frozen-backbone baselines OOD.",
          paper_value="40K, HHH: GRM-SFT 78.7 against margin 69.8, label smoothing 68.8 (frozen: lower still)",
          precondition=OVERFITS + SIGNAL,
          checks=(Check("c3.vs_margin", ">", 0.0, on="ci", label="acc(GRM-SFT) - acc(BT + margin), primary"),
                  Check("c3.vs_label_smoothing", ">", 0.0, on="ci",
                        label="acc(GRM-SFT) - acc(BT + label smoothing), primary"),
                  Check("c3.vs_frozen", ">", 0.0, on="ci", label="acc(GRM-SFT) - acc(frozen backbone), primary")),
          revised=WORLDS + " " + FLOOR),
    Claim("C4", "Best-of-n: the BT proxy's gold reward peaks before the largest n and falls, while GRM's gold "
                "reward at the largest n is at least BT's. Reported as observed or not.",
          paper_value="BT gold peaks then falls with KL; GRM's keeps rising (Fig. 4, N up to 405)",
          # bf16 sampling on another CPU can change a few samples of the pool: its spread moves by hundredths
          precondition=(Check("pre.bon_gold_sd", ">", 0.0, label="gold reward varies within the BoN pools",
                              tol=Tol(abs=0.1)),),
          checks=(Check("c4.bt_drop", ">", 0.0, on="ci", label="BT: gold at its best n - gold at the largest n"),
                  Check("c4.final_gold_gain", ">", 0.0, on="ci", label="gold at the largest n: GRM-SFT - BT")),
          note="The best n is the argmax of the mean BT gold curve; choosing it on the same runs favours a drop, "
               "so a drop whose interval excludes 0 is needed.",
          revised="Judged on intervals since the first run (the point-value check below); " + WORLDS + " " + FLOOR),
), timings=("timing.*",))

# The checks as they were: the mini run at commit 98394ae (reports/grm) and its seed-shift run (every seed one
# block on: world_seed 0 -> 1, rm.seeds 0-19 -> 20-39, bon_seed 0 -> 1; reports/robustness.md there).
_OLD_CI = " (whole 95% CI; two-level bootstrap over the seeds and test items of one world)"
C, S = "committed seeds: ", "; shifted seeds: "
CHANGES = (
    ClaimChange("C1", "acc(GRM-SFT) - acc(BT), primary OOD set >= 0.02; the same gain > 0" + _OLD_CI
                + "; ID gain >= -0.01", C + "not reproduced" + S + "not reproduced",
                C + "gain 0.00677 [-0.0312, 0.0448], ID 0.00469 [-0.00417, 0.0172]"
                + S + "gain -0.0182 [-0.0922, 0.0526], ID 0.000521 [-0.00885, 0.0099]", WORLDS, "98394ae"),
    ClaimChange("C1", "acc(GRM-SFT) - acc(BT), primary OOD set >= 0.02 (point value); the same gain > 0 (whole "
                "95% CI; t-interval over world means); ID gain >= -0.01 (point value)",
                C + "not reproduced" + S + "inconclusive (fragile)",
                C + "gain -0.0344 [-0.131, 0.0622], ID 0.0125 [-0.0156, 0.0406]"
                + S + "gain 0.0469 [-0.0854, 0.179], ID 0.00625 [-0.0411, 0.0536]", MARGIN_ON_CI, "55b55fb"),
    ClaimChange("C2", "gain(smallest size) - gain(largest size), primary > 0" + _OLD_CI,
                C + "inconclusive" + S + "inconclusive",
                C + "-0.0255 [-0.0745, 0.0193]" + S + "0.0615 [-0.0308, 0.153]", WORLDS, "98394ae"),
    ClaimChange("C3", "acc(GRM-SFT) - acc(margin / label smoothing / frozen), primary > 0" + _OLD_CI,
                C + "inconclusive" + S + "not reproduced (fragile)",
                C + "margin 0.0146 [-0.0255, 0.0542], label smoothing 0.0177 [-0.0219, 0.0599], frozen -0.0349 "
                "[-0.0896, 0.0177]" + S + "margin -0.076 [-0.152, -0.00729], label smoothing 0.0172 [-0.0511, "
                "0.0859], frozen -0.153 [-0.231, -0.0813]", WORLDS, "98394ae"),
    ClaimChange("C4", "BT drop from its peak > 0 and final gold GRM-SFT - BT > 0 (whole 95% CIs; t-intervals over "
                "the seeds of one world's BoN prompts)", C + "inconclusive" + S + "inconclusive",
                C + "drop 0.171 [0.132, 0.211], final -0.0208 [-0.068, 0.0263]"
                + S + "drop 0.166 [0.139, 0.194], final -0.00417 [-0.0431, 0.0348]", WORLDS, "98394ae"),
    ClaimChange("C4", "final gold GRM-SFT - BT >= 0 on its point value (with BT's drop > 0 on its interval)",
                C + "not reproduced" + S + "not reproduced", C + "final -0.0208" + S + "final -0.00417",
                "The final-gold difference sits at zero, so a point-value verdict followed the sign of noise; the "
                "claim is about a difference, so it is judged on its interval, as C1-C3 are.", "5ffb20d"),
    ClaimChange("C1", "acc(GRM-SFT) - acc(BT), primary >= 0.02 and ID gain >= -0.01 (whole 95% CIs; plain "
                "t-interval over world means)", C + "not reproduced" + S + "inconclusive (fragile)",
                C + "gain -0.0417 [-0.0682, -0.0151], ID 0.00833 [-0.0182, 0.0349]"
                + S + "gain 0.0125 [-0.127, 0.152], ID 0.0167 [-0.0208, 0.0542]", FLOOR, "91a3efe"),
    ClaimChange("C2", "gain(smallest size) - gain(largest size), primary > 0 (whole 95% CI; plain t-interval over "
                "world means)", C + "inconclusive" + S + "inconclusive",
                C + "0 [-0.0685, 0.0685]" + S + "-0.00833 [-0.283, 0.266]", FLOOR, "91a3efe"),
    ClaimChange("C3", "acc(GRM-SFT) - acc(margin / label smoothing / frozen), primary > 0 (whole 95% CIs; plain "
                "t-interval over world means)", C + "not reproduced" + S + "inconclusive (fragile)",
                C + "margin -0.0208 [-0.0871, 0.0455], label smoothing 0.0167 [-0.0979, 0.131], frozen -0.0792 "
                "[-0.113, -0.0458]" + S + "margin 0.0167 [-0.119, 0.152], label smoothing 0.108 [0.0204, 0.196], "
                "frozen -0.0625 [-0.2, 0.0751]", FLOOR, "91a3efe"),
    ClaimChange("C4", "BT drop from its peak > 0 and final gold GRM-SFT - BT > 0 (whole 95% CIs; plain t-interval "
                "over world means)", C + "not reproduced" + S + "inconclusive (fragile)",
                C + "drop 0.0603 [-0.164, 0.284], final 0 [0, 0]" + S + "drop 0.0122 [-0.0494, 0.0738], final "
                "0.0556 [-0.173, 0.284]", FLOOR, "91a3efe"),
)
