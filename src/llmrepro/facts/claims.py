"""facts claims; thresholds are the issue's, fixed before any run."""

from llmrepro.pipeline.claims import Check, Claim, ClaimSet

CLAIMS = ClaimSet("facts", (
    Claim("C1", "Each encounter gives an immediate gain: mean memorization effectivity is positive.",
          paper_value="micro-acquisitions after every injection (Fig. 2)",
          checks=(Check("claims.effectivity_memorization", ">", 0.0, on="ci",
                        label="memorization effectivity (nats, control-adjusted)"),),
          note="Effectivity is the window maximum minus the pre-injection value; the same statistic on never-"
               "injected control probes is subtracted, since a window maximum of noise is positive."),
    Claim("C2", "Effectivity ranks memorization > semantic generalization > composition.",
          paper_value="memorization > semantic > composition",
          checks=(Check("claims.mem_minus_sem", ">", 0.0, on="ci", label="E(mem) - E(sem), over seeds"),
                  Check("claims.sem_minus_comp", ">", 0.0, on="ci", label="E(sem) - E(comp), over seeds"))),
    Claim("C3", "Forgetting follows a power law: retainability is linear in log t.",
          paper_value="R² > 0.8 for memorization and semantic probes",
          checks=(Check("claims.r2_memorization_min", ">=", 0.6,
                        label="min over paraphrase, duplication of R² (memorization)"),)),
    Claim("C4", "Duplicated injection forgets faster than paraphrased injection.",
          paper_value="paraphrase forgets slower (Table 2)",
          checks=(Check("claims.dup_minus_para_decay", ">", 0.0, on="ci", label="a(dup) - a(para), memorization"),)),
    Claim("C5", "A smaller batch forgets faster (larger decay constant) than a larger one, at equal learning rate "
                "and equal injected fraction.",
          paper_value="batch 128 vs 2048: larger decay constants, thresholds shrink by dozens of times",
          checks=(Check("claims.small_minus_large_batch_decay", ">", 0.0, on="ci",
                        label="a(batch B) - a(batch 2B), memorization"),)),
    Claim("C6", "The larger model has higher effectivity.",
          paper_value="OLMo-7B > OLMo-1B",
          checks=(Check("claims.base_minus_small_model_effectivity", ">", 0.0, on="ci",
                        label="E_mem(base) - E_mem(small model)"),)),
))
