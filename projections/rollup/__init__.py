"""Roll-ups for an office and all its descendants, maintained incrementally (the projection:
``projection``), each matter counted once (``matters``), read as people read them
(``summary``). The counters each record contributes are in ``counters``, the tables in
``tables``. Importers use the names re-exported here.
May import: ``projections`` (rollup.counters, rollup.projection, rollup.summary, rollup.tables).
"""

from projections.rollup.counters import (
    Counters,
    add,
    as_rows,
    contribution,
    counted,
    with_matters,
)
from projections.rollup.projection import RollupProjection
from projections.rollup.summary import (
    as_read,
    brief,
    brief_parameters,
    brief_query,
    counters_at_end_of,
    on_time_rate,
    stored,
    summarize_rollup,
)
from projections.rollup.tables import ADD, DDL, ROLLUP

__all__ = [
    "ADD",
    "DDL",
    "ROLLUP",
    "Counters",
    "RollupProjection",
    "add",
    "as_read",
    "as_rows",
    "brief",
    "brief_parameters",
    "brief_query",
    "contribution",
    "counted",
    "counters_at_end_of",
    "on_time_rate",
    "stored",
    "summarize_rollup",
    "with_matters",
]
