"""Benchmarks: each prints a table and compares with a baseline measured in the same run."""
