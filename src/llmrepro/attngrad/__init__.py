"""attngrad: The Fine-Grained Complexity of Gradient Computation for Training LLMs."""
