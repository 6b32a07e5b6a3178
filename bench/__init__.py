"""Benchmarks of Fupin: a province-scale dataset, a bare ceiling app, and a runner that compares the two."""
