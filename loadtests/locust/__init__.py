"""Locust scenarios for the voting service: steady, surge, otp_storm, results, bots.

Each file is a locustfile runnable on its own (``locust -f loadtests/locust/<name>.py --headless --host ...``);
``python -m loadtests.locust <name>`` also stands up a local stack for it (see __main__.py). This package's
__init__ imports nothing: locust (and gevent's monkey-patching) is loaded only by the locustfiles.
"""

SCENARIOS = ("steady", "surge", "otp_storm", "results", "bots")
