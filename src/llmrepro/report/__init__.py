"""Report pages, figures and the benchmark."""
