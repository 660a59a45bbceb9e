"""common: the shared corpora, SmolLM2, tokenizer and tiny from-scratch Llama every paper builds on."""
