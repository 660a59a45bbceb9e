"""mspoe: Found in the Middle: Ms-PoE (multi-scale positional encoding)."""
