"""freq claims. The original thresholds were the issue's, fixed before any run; the review
mends (issue 10) and the seed-shift finding (issue 19) revised C1-C5 and added C6, with the
old checks kept in CHANGES and on the page. The revised thresholds were fixed before the rerun.
The second seed shift (issue 19) revised what the intervals are over, fixed before the rerun; the third
doubled the worlds (SIX_WORLDS)."""

import json
from pathlib import Path

from llmrepro.pipeline.claims import Check, Claim, ClaimSet
from llmrepro.report.changes import block_changes
from llmrepro.report.pages import ClaimChange

BEFORE = "96c4b20"  # the commit whose reports/freq/claims.json holds the old checks' results
FIRST = "65e9d74"  # the first rerun of the revised checks, whose intervals resampled concepts only
# The two-level bootstrap's results at both seed blocks (before the t-interval over worlds)
BOOTSTRAP = Path(__file__).parent / "before_worlds_t.json"
# Issue 19, second seed shift: C4's per-world r(true, acc) were 0.085, 0.033, 0.068 at control seeds 1-3 and
# 0.141, 0.267, 0.183 at 4-6; the two-level percentile bootstrap gave [-0.033, 0.158] and [0.085, 0.301]. It
# did resample worlds, but a percentile bootstrap over three worlds cannot reach past the most extreme one and
# shrinks their variance by (n - 1) / n: the between-world spread, estimated on 2 degrees of freedom, was
# under-covered. A t-interval over worlds (df = worlds - 1) carries it; the per-world values already hold the
# concept noise, since every world draws its own concepts.
WORLDS_T = ("The interval is now a Student-t interval over worlds of the per-world statistic (Welch for a "
            "difference of two groups), in place of the two-level percentile bootstrap over worlds and concepts, "
            "which over three worlds cannot reach past the most extreme world and shrinks their variance by a "
            "third; with the seeds shifted, C4's per-world correlations moved by more than it allowed (issue 19). "
            "Same checks and thresholds, fixed before the rerun.")

THREE_WORLDS = "d78a1f6"  # the t-interval over three worlds of each kind, at seeds 1-3 (reports/freq there)
SIX_WORLDS = ("Six worlds of each kind, not three (stop 26). Over three worlds the t-intervals (2-3 df) put C3's "
              "and C4's edges at their thresholds, and both moved to inconclusive under the seed shift while the "
              "worlds' values at seeds 1-3 and 4-6 looked like one sample (C4's per-world r 0.033-0.085 and "
              "0.141-0.267). The committed worlds are now seeds 1-6, i.e. both earlier blocks, so their verdicts "
              "were predictable from those values (C3 reproduced, C4 inconclusive); the seed shift (7-12) is the "
              "unseen test. Checks and thresholds unchanged.")

NOT_SATURATED = (Check("mini.mean_acc.value", "in", (20.0, 80.0), label="mean zero-shot accuracy (%), Zipf worlds"),)
CONTROL_MATCHED = (Check("mini.uniform.mean_acc.value", "in", (20.0, 80.0),
                         label="mean zero-shot accuracy (%), uniform controls"),)

CLAIMS = ClaimSet("freq", (
    Claim("C1", "Replay: the binned Pearson rho that the authors' figures print is recomputed from the released "
                "counts and accuracies within +-0.01, for both prompt sets the figures use and for the SynthCI-30M "
                "and LAION-200M controls.",
          paper_value="legends of notebooks/plots/eccv-paper-*-zero-shot-log-linear-plot-*.{pdf,png} (table below)",
          checks=(Check("replay.sets.ensemble.max_abs_diff", "<=", 0.01,
                        label="max |replayed - legend rho|, ensemble-prompt figures"),
                  Check("replay.sets.class.max_abs_diff", "<=", 0.01,
                        label="max |replayed - legend rho|, class-prompt figures"),
                  Check("replay.sets.control.max_abs_diff", "<=", 0.01,
                        label="max |replayed - legend rho|, SynthCI-30M and LAION-200M controls")),
          note="The per-concept Pearson r on the same data is much lower (see the table): the law holds on average, "
               "noisily per concept. The NeurIPS PDF is not in the mirror; every reference is the authors' own "
               "figure file in the released repository, cited by path.",
          revised="The old reference values were recomputed from the released data, so the check was circular. Each "
                  "reference now comes from the authors' figure file, cited by path; both prompt sets, YFCC-15M's "
                  "RN101 and ViT-B-16, and the SynthCI-30M and LAION-200M controls are replayed."),
    Claim("C2", "Zero-shot accuracy grows linearly in log(pretraining concept frequency), with frequency counted "
                "by the extraction stage: positive slope per decade and per-concept r >= 0.5 (the paper's binned "
                "rho is reported beside them).",
          paper_value="binned rho 0.92-0.99; per-concept r 0.26-0.59 (replay)",
          precondition=NOT_SATURATED,
          checks=(Check("mini.slope_pp_per_decade", ">", 0.0, on="ci", label="slope (pp/decade), mean over worlds"),
                  Check("mini.pearson_r", ">=", 0.5, on="ci", label="per-concept r(log10 f, acc), mean over worlds")),
          note="Intervals: Student-t over worlds of the per-world statistic (see Intervals below).",
          revised="Binned rho >= 0.9 cannot be met with 256 concepts in 12 bins (the top bins hold 1-3 concepts) and "
                  "flipped with the seeds (0.865 -> 0.926); per-concept r, on its whole interval, is the gate now. "
                  "The intervals resample worlds as well as concepts. " + WORLDS_T),
    Claim("C3", "The rarest concepts do poorly: the rarest decile's accuracy is at least 15 pp below the mean "
                "beyond what the same measurement gives in uniform-frequency worlds of matched accuracy (a Let It "
                "Wag! analogue).",
          paper_value="Let It Wag! mean drop from ImageNet: about 21 pp (replay, table below)",
          precondition=NOT_SATURATED + CONTROL_MATCHED,
          checks=(Check("mini.rare_gap_excess", ">=", 15.0, on="ci",
                        label="rarest-decile gap (pp), Zipf worlds minus uniform controls"),),
          revised="The raw gap passed almost by construction once accuracy sat in [20, 80] %; the gap the same "
                  "measurement finds in uniform worlds of matched accuracy is now subtracted, with an interval over "
                  "worlds and concepts. " + WORLDS_T + " " + SIX_WORLDS),
    Claim("C4", "Causal control the paper could not run: with uniform concept frequencies at matched accuracy, "
                "accuracy does not correlate with the true concept counts.",
          precondition=CONTROL_MATCHED,
          checks=(Check("mini.uniform.pearson_r_true", "in", (-0.2, 0.2), on="ci",
                        label="r(log10 true count, acc), uniform controls"),),
          revised="The old check correlated accuracy with measured counts, which carry the tagger's recall (C6), in "
                  "one control world at ceiling (97 %); it now uses the generator's true counts, three control "
                  "worlds and an interval over worlds and concepts, at accuracy matched to the Zipf worlds. " + WORLDS_T
                  + " " + SIX_WORLDS),
    Claim("C5", "Concept extraction works: integrated counts track the generator's ground truth, and the "
                "lemmatised index finds plural and irregular mentions, in Zipf and uniform worlds alike.",
          checks=(Check("mini.extraction.spearman_min", ">=", 0.95,
                        label="min over Zipf worlds of Spearman(counted, true)"),
                  Check("mini.extraction.recall_lemmatized_plural_min", ">=", 0.95,
                        label="min over all worlds of the lemmatised index's recall on plural mentions")),
          revised="recall(lemmatised) > recall(lowercased) held by construction (a lowercased index cannot match "
                  "plurals); the lemmatiser's own recall on plural mentions is tested instead, on the uniform "
                  "worlds too, and the tagger's per-concept precision and recall are reported."),
    Claim("C6", "Finding of this reproduction (not a claim of the paper): counts measured with an image tagger "
                "carry its recall, so in uniform worlds accuracy correlates with measured counts where it does not "
                "with true ones: concepts that are easy to recognise are both counted more often and classified "
                "better.",
          paper_value="– (the paper's RAM++-based counts could carry the same bias)",
          precondition=CONTROL_MATCHED,
          checks=(Check("mini.confound.r_measured_minus_true", ">", 0.0, on="ci",
                        label="r(measured, acc) - r(true, acc), uniform controls"),
                  Check("mini.confound.r_tagger_recall_acc", ">", 0.0, on="ci",
                        label="r(tagger recall per concept, acc), uniform controls")),
          revised="First run with an interval over concepts only; it then resampled worlds as well. " + WORLDS_T),
))

CHANGES = (
    ClaimChange("C1", "max |replayed rho - params legend rho| <= 0.01 over 8 ensemble-prompt pairs", "reproduced",
                "0.00416", "The params' values had been recomputed from the released data: circular.", BEFORE),
    ClaimChange("C2", "slope CI > 0; per-concept r (mean over seeds) >= 0.5; binned rho (mean over seeds) >= 0.9",
                "not reproduced", "slope 38.7 [35.6, 42.5]; r 0.728; binned rho 0.865 (fail)",
                "Binned rho >= 0.9 is out of reach with 1-3 concepts in the top bins, and flipped to 0.926 when the "
                "seeds moved (issue 19).", BEFORE),
    ClaimChange("C3", "mean - rarest-decile accuracy >= 15 pp (whole CI)", "reproduced", "35.6 [20.2, 51.0]",
                "Once mean accuracy is in [20, 80] %, the rarest decile is almost sure to sit 15 pp below it.",
                BEFORE),
    ClaimChange("C4", "|r(log10 measured count, acc)| < 0.2, one uniform world", "not reproduced",
                "0.246 at 97 % mean accuracy; 0.132 with the seeds moved (issue 19)",
                "Measured counts carry the tagger's recall; one world at ceiling; no interval.", BEFORE),
    ClaimChange("C5", "min Spearman(counted, true) >= 0.95; recall(lemmatised) - recall(lowercased) > 0",
                "reproduced", "0.979; 0.263",
                "A lowercased index cannot match plurals: the second check passed by construction.", BEFORE),
    ClaimChange("C2", "the revised checks, interval over concepts within worlds only", "reproduced (seeds 1-3 and 4-6)",
                "slope 36.9 [34.0, 40.7], r 0.720 [0.688, 0.754]; seeds 4-6: 37.6 [34.4, 41.6], 0.718 [0.685, 0.754]",
                "The interval left out how worlds differ (issue 19); it now resamples worlds too.", FIRST),
    ClaimChange("C3", "the revised check, interval over concepts within worlds only", "reproduced (seeds 1-3 and 4-6)",
                "22.1 [16.8, 26.6]; seeds 4-6: 21.7 [16.7, 27.4] (Zipf gaps 26.7-36.3, control gaps 6.1-15.2)",
                "The worlds' gaps differ by more than the concept bootstrap allows; it now resamples worlds too.",
                FIRST),
    ClaimChange("C4", "the revised check, interval over concepts within worlds only",
                "reproduced (seeds 1-3), inconclusive (seeds 4-6)",
                "0.062 [-0.013, 0.134]; seeds 4-6: 0.197 [0.131, 0.264] (per-world r 0.03-0.27)",
                "A flip under shifted seeds: the interval missed the variation between worlds; it now resamples "
                "worlds too (the verdict can still depend on the seeds, see the notes).", FIRST),
    ClaimChange("C6", "the same checks, interval over concepts within worlds only", "reproduced (seeds 1-3 and 4-6)",
                "0.403 [0.336, 0.473] and 0.513 [0.460, 0.566]; seeds 4-6: 0.278 [0.211, 0.343] and "
                "0.497 [0.440, 0.549]", "As C2-C4: worlds are resampled too.", FIRST),
    ClaimChange("C3", "the same check, t-interval over three worlds of each kind",
                "reproduced (seeds 1-3); inconclusive (seeds 4-6)",
                "22.1 [17.5, 26.7]; seeds 4-6: 21.7 [13.7, 29.7]", SIX_WORLDS, THREE_WORLDS),
    ClaimChange("C4", "the same check, t-interval over three control worlds",
                "reproduced (seeds 1-3); inconclusive (seeds 4-6)",
                "0.0618 [-0.00402, 0.128]; seeds 4-6: 0.197 [0.0367, 0.357]", SIX_WORLDS, THREE_WORLDS),
    # the two-level bootstrap's checks at both seed blocks, read from before_worlds_t.json
    *block_changes(json.loads(BOOTSTRAP.read_text()), "two-level percentile bootstrap over worlds and concepts",
                   dict.fromkeys(("C2", "C3", "C4", "C6"), WORLDS_T)),
)
