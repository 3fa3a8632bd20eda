"""The supervision domain (督查督办): pure aggregates, events and rules.

Only the standard library and ``eventsourcing.domain`` are imported here. Time and the
working-day calendar are passed in by the caller, so every rule can be tested in memory.
"""
