"""Fixtures of the household tests: the lifecycle's movable clock and its actors at each level."""

from tests.households.lifecycle_support import actors, time_machine

__all__ = ["actors", "time_machine"]
