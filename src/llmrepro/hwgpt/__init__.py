"""HW-GPT-Bench at mini scale: a GPT search space, a weight-sharing supernet, latency and memory measured on this CPU, surrogates with calibrated uncertainty, and multi-objective search."""
