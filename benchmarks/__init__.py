"""Ratio benchmarks against peers measured in the same run (see docs/performance.md)."""
