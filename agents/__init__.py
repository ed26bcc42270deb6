"""Layer 4: the Agent protocol, baselines, LLM agents and trainers."""
