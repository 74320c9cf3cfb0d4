# Developer entry points. `make run` starts the whole stack locally, `make test` runs the test suite.
# Both create .venv on first use (the dev and devstack extras: test tools, bundled Postgres and Redis); it is
# re-installed only when pyproject.toml changes. A production install (`pip install .`, the image) has neither.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.install.stamp
PYTEST_ARGS ?=
PYTEST_WORKERS ?= 2

.PHONY: venv run services test test-cluster bench chaos failover fraud-eval lighthouse

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -e '.[dev,devstack]'
	touch $@

# Bundled Postgres + Redis under .data/ unless DATABASE_URL / REDIS_URL are set; then migrations, demo data,
# voting service, flusher and admin service. Ctrl-C stops everything.
run: venv
	$(PY) -m devtools.devstack run

# Only Postgres + Redis for the tests (prints export lines; runs until Ctrl-C).
services: venv
	$(PY) -m devtools.devstack services

# System Postgres/Redis on 127.0.0.1:5432/6379 if they answer, else bundled ones; then pytest $(PYTEST_ARGS) in
# PYTEST_WORKERS processes (pytest-xdist; a test file stays in one worker, so its module fixtures start once;
# the longest files first: tests/conftest.py orders them, --no-loadscope-reorder keeps that order).
# Fails if pytest fails or collects no tests (exit code 5). Chromium for the browser test is installed first
# when missing and we are root, with wrk and promtool (scripts/ensure_test_tools.sh; without them those tests skip).
test: venv
	bash scripts/ensure_test_tools.sh
	$(PY) -m devtools.devstack test -n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder $(PYTEST_ARGS)

# The vote path's suites again on a Redis Cluster of 3 primaries + 3 replicas started on loopback ports for the
# run (TEST_REDIS_CLUSTER=1, tests/conftest.py; needs redis-server and redis-cli 7+ on PATH). Postgres as for
# `make test`. The suites' tests that need one Redis server of their own skip themselves.
CLUSTER_TESTS ?= tests/integration/voting tests/integration/stores tests/e2e/test_flusher_crash.py \
	tests/e2e/test_several_flushers.py
test-cluster: venv
	TEST_REDIS_CLUSTER=1 $(PY) -m devtools.devstack test $(CLUSTER_TESTS) $(PYTEST_ARGS)

# Failover under load, counted (loadtests/failover.py): acknowledged votes lost with and without
# REDIS_WAIT_REPLICAS=1, the 503 window and the latency of each; last line JSON. FAILOVER_ARGS="--rounds 3".
FAILOVER_ARGS ?=
failover: venv
	$(PY) -m loadtests.failover $(FAILOVER_ARGS)

# Throughput benchmark: the voting service as in production (granian workers + flusher) driven by wrk, with
# the plain-Litestar ceiling and the naive Postgres-per-vote design measured in the same run; last line JSON.
# Needs wrk (apt-get install wrk). Arguments: make bench BENCH_ARGS="--duration 60"; on a Redis Cluster started
# for the run: BENCH_ARGS="--redis-cluster --cluster-primaries 3" (docs/performance.md).
BENCH_ARGS ?=
bench: venv
	$(PY) -m loadtests.bench $(BENCH_ARGS)

# Faults under a steady vote load (loadtests/chaos.py, 2-4 min, loopback only): its own Postgres (initdb) and
# redis-server (AOF, appendfsync always) on free ports; kill -9 the flusher 10 times, restart Postgres, kill -9 and
# restart Redis, freeze Redis 10 s (SIGSTOP); then on a Redis Cluster (3 primaries x 2 replicas) kill -9 a primary
# with REDIS_WAIT_REPLICAS=1 (counted) and =0 (reported apart); then drain, reconcile and print as last line one JSON object
# (acknowledged, lost, duplicated, reconcile_ok, max_unavailable_response_s). Exit 1 if a target is missed
# (lost 0, duplicated 0, reconcile_ok, <= 2 s). Needs the PostgreSQL server binaries. CHAOS_ARGS="--help" lists options.
CHAOS_ARGS ?=
chaos: venv
	$(PY) -m loadtests.chaos $(CHAOS_ARGS)

# Fraud detector evaluation (docs/fraud.md): labelled traffic (an organic crowd and four attacks) through the real
# voting service and flusher on loopback, scored against the fraud review's flags; ~5 minutes; last line JSON
# {recall_<attack>, organic_false_positive_rate, organic_challenged_rate, ...}. FRAUD_EVAL_ARGS="--organic 2000".
FRAUD_EVAL_ARGS ?=
fraud-eval: venv
	$(PY) -m loadtests.fraud_eval $(FRAUD_EVAL_ARGS)

# Lighthouse (mobile emulation, Debian's headless Chromium) on the portal's home, ballot and candidate pages:
# prints the accessibility, performance and best-practices scores and what cost points; exit 1 under the
# targets (100 / 95 / 95). Starts its own stack (scratch database, demo data, the voting service as in
# production) unless LIGHTHOUSE_ARGS="--url http://127.0.0.1:8000" names a running one (make run).
LIGHTHOUSE_ARGS ?=
lighthouse: venv
	bash scripts/ensure_test_tools.sh
	$(PY) -m loadtests.lighthouse $(LIGHTHOUSE_ARGS)
