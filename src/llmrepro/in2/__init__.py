"""in2: Make Your LLM Fully Utilize the Context (IN2 training, VaL probing), as a toy."""
