"""tap: Tree of Attacks with Pruning, on benign secret-keeping targets only (no harmful goals)."""
