"""Everything outside the domain: application services (``services/*.py``), the adapters
(``stores/``, ``kafka/``), the entrypoints (``cli/``, ``http/``, ``stack.py``, ``demo/``) and the
composition root (``bootstrap.py``); DEVELOPING.md's rooms say which may import which. May import:
nothing (each module says what it may import).
"""
