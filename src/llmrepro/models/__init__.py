"""Tiny transformers models: configs, construction, training, evaluation, pretrained checkpoints."""
