"""Layer 3: step wrappers, group transforms and LLM-derived rewards."""
