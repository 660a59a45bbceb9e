"""Checks on the shared models. They are sanity claims, not a paper's: the
machinery's demonstration that a verdict comes from measured numbers."""

from llmrepro.pipeline.claims import Check, Claim, ClaimSet, Tol

# A trained tiny LM's perplexity ratio has no interval (one run); on another CPU the weights differ by
# float rounding, which moves it far less than a new seed does (a few percent). 10 % relative is the bound.
TRAINED = Tol(rel=0.1)

CLAIMS = ClaimSet("common", (
    Claim("C1", "Pretraining lowers the tiny Llama's validation perplexity on both corpora.",
          checks=(Check("tinylm.ratio_end_to_start_shakespeare", "<", 0.5, label="end/start ppl, Shakespeare", tol=TRAINED),
                  Check("tinylm.ratio_end_to_start_kjv", "<", 0.5, label="end/start ppl, KJV", tol=TRAINED))),
    Claim("C2", "The tiny Llama learns more than word frequencies: its validation perplexity is below a "
                "unigram model's with the same tokenizer.",
          checks=(Check("tinylm.ratio_to_unigram_shakespeare", "<", 1.0, label="ppl / unigram ppl, Shakespeare", tol=TRAINED),
                  Check("tinylm.ratio_to_unigram_kjv", "<", 1.0, label="ppl / unigram ppl, KJV", tol=TRAINED))),
    Claim("C3", "SmolLM2-135M-Instruct (a real pretrained LM, via its Q4_1 GGUF) models held-out Shakespeare "
                "and KJV far better than a unigram model: perplexity below half the unigram's.",
          checks=(Check("smollm2.shakespeare.ratio_to_unigram", "<", 0.5, on="ci",
                        label="SmolLM2 ppl / unigram ppl, Shakespeare"),
                  Check("smollm2.kjv.ratio_to_unigram", "<", 0.5, on="ci", label="SmolLM2 ppl / unigram ppl, KJV")),
          note="Interval: bootstrap over evaluation windows."),
))
