"""Benchmarks: evaluation scripts run by hand (not part of the test suite)."""
