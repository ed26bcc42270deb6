"""Layer 5: the bench runner, results store, scoring, HTML report and the ``rewardgym`` CLI."""
