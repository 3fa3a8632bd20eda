"""The HTTP API (``/api/v1``): Flask + flask-smorest + marshmallow; views only translate. May
import: nothing (its modules import Flask, flask-smorest, marshmallow, the services and
``services.bootstrap``'s platform; each says what).
"""
