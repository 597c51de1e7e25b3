"""Benchmarks and the synthetic care-flow generator they (and the tests) use."""
