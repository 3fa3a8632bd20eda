"""The HTTP API (``/api/v1``): Flask + flask-smorest + marshmallow; views only translate."""
