"""The read side: read models built from the offices' notification logs (``items``, ``audit``,
``rollup``), their queries (``queries``), time travel, the read store (``readstore``) and the
consumer runner (``runner``) that keeps them current. May import: nothing (each module says what it
may import).
"""
