"""cherryq: Cherry on Top: parameter heterogeneity and CherryQ quantization."""
