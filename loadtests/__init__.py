"""Load tests: the throughput benchmark (``python -m loadtests.bench``) and its baselines."""
