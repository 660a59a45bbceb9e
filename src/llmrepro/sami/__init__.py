"""sami: self-supervised alignment with mutual information (Fränken et al.), on a synthetic
principle-following world at mini scale and on the paper's models and data at full scale."""
