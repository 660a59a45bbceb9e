"""freq: No "Zero-Shot" Without Exponential Data (concept frequency)."""
