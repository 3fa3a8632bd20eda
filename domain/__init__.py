"""The supervision domain (督查督办): pure aggregates, events and rules. May import: the standard
library and ``eventsourcing.domain``, nothing else (this holds for every module of the package).

Only the standard library and ``eventsourcing.domain`` are imported here. Time and the
working-day calendar are passed in by the caller, so every rule can be tested in memory.
"""
