"""grm claims. Thresholds, the primary OOD set and the seed counts were fixed after the pilot (which
showed the precondition and a latent quality signal in the frozen read-out) and before the claim
run; the C1 margin (2 points) is the issue's."""

from llmrepro.pipeline.claims import Check, Claim, ClaimSet, Tol

# The mechanism's preconditions: BT overfits the shortcut, and the frozen read-out state carries a
# latent quality signal (without one no reward model can generalize, so GRM could not either).
OVERFITS = (Check("pre.bt_id", ">=", 0.8, label="BT accuracy on ID pairs (the marker tracks quality)"),
            Check("pre.bt_anti", "<=", 0.5, label="BT accuracy on ID pairs with the marker reversed"))
SIGNAL = (Check("pre.frozen_primary", ">", 0.5, on="ci",
                label="frozen-backbone RM on the primary OOD set (latent quality signal)"),)

# Checks revised after their first result was known: the reason and the original checks, which the page
# keeps with their verdicts (see report.claim_changes).
REVISED = {"C4": ("The first check compared the final gold rewards on their point value (>= 0). The difference "
                  "sits at zero, so its verdict followed the sign of noise and would flip with the seeds; the "
                  "claim is about a difference, so it is now judged on its interval, as C1-C3 are.",
                  (Check("c4.bt_drop", ">", 0.0, on="ci", label="BT: gold at its best n - gold at the largest n"),
                   Check("c4.final_gold_gain", ">=", 0.0, label="gold at the largest n: GRM-SFT - BT")))}

CLAIMS = ClaimSet("grm", (
    Claim("C1", "A text-generation (SFT) regularizer on the shared hidden states raises OOD preference accuracy "
                "over a plain Bradley-Terry reward model, without losing ID accuracy.",
          paper_value="Gemma-2B, 40K pairs: HHH 70.3 -> 78.7, MT-Bench 69.1 -> 73.0; 400K: HHH 73.4 -> 79.8 "
                      "(UF ID 68.8 -> 71.5)",
          precondition=OVERFITS + SIGNAL,
          checks=(Check("c1.gain_primary", ">=", 0.02, label="acc(GRM-SFT) - acc(BT), primary OOD set, paired"),
                  Check("c1.gain_primary", ">", 0.0, on="ci", label="the same gain"),
                  Check("c1.gain_id", ">=", -0.01, label="acc(GRM-SFT) - acc(BT) on ID pairs")),
          note="Primary OOD set (pre-registered): unseen tasks, no marker on either response. Intervals: "
               "two-level bootstrap over seeds and test items; GRM and BT share seeds, training pairs and the "
               "initial head."),
    Claim("C2", "The OOD gain is larger when preference data is scarce.",
          paper_value="HHH gain +8.4 at 40K pairs against +6.4 at 400K",
          precondition=(Check("pre.bt_anti_smallest", "<=", 0.5,
                              label="BT, marker reversed, at the smallest set size"),
                        Check("pre.bt_anti_largest", "<=", 0.5, label="BT, marker reversed, at the largest set size"),
                        *SIGNAL),
          checks=(Check("c2.diff", ">", 0.0, on="ci",
                        label="gain(smallest size) - gain(largest size), primary OOD set"),)),
    Claim("C3", "GRM beats the margin, label-smoothing and frozen-backbone baselines OOD.",
          paper_value="40K, HHH: GRM-SFT 78.7 against margin 69.8, label smoothing 68.8 (frozen: lower still)",
          precondition=OVERFITS + SIGNAL,
          checks=(Check("c3.vs_margin", ">", 0.0, on="ci", label="acc(GRM-SFT) - acc(BT + margin), primary"),
                  Check("c3.vs_label_smoothing", ">", 0.0, on="ci",
                        label="acc(GRM-SFT) - acc(BT + label smoothing), primary"),
                  Check("c3.vs_frozen", ">", 0.0, on="ci", label="acc(GRM-SFT) - acc(frozen backbone), primary"))),
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
          revised=REVISED["C4"][0]),
), timings=("timing.*",))
