#!/usr/bin/env bash
# The machine tools some tests drive, from Debian's packages, installed only when missing and only as root;
# otherwise a note, and those tests skip. Never fails the caller: the suite runs either way.
#   chromium   the browser test (tests/e2e/test_admin_browser.py); Playwright drives it by its executable
#              path, so `playwright install` (a download of its own browser build) is never needed
#   wrk        the benchmark's smoke test (tests/e2e/test_bench_smoke.py) and `make bench`
#   promtool   the alert rule tests (tests/unit/ops/test_prometheus_rules.py), from the package prometheus
set -u
CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"
missing=()
[ -x "$CHROMIUM" ] || missing+=(chromium)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "note: missing ${missing[*]} (as root: apt-get install -y ${missing[*]}); the tests that need them will be skipped" >&2
    exit 0
fi
echo "installing Debian's ${missing[*]} for the tests that use them ..." >&2
if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"; } \
        >/tmp/ensure_test_tools.log 2>&1; then
    echo "note: could not install ${missing[*]} (see /tmp/ensure_test_tools.log); the tests that need them will be skipped" >&2
fi
# The prometheus package starts a Prometheus server as a service where it can; the tests only need promtool.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet prometheus 2>/dev/null; then
    systemctl stop prometheus >/dev/null 2>&1 || true
fi
exit 0
