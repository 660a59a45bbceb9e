"""Pinned sources, prepared corpora and the tokenizer, shared by every paper."""
