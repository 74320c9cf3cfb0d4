#!/usr/bin/env bash
# The machine tools some tests drive, from Debian's packages, installed only when missing and only as root;
# otherwise a note, and those tests skip. Never fails the caller: the suite runs either way.
#   chromium   the browser tests (tests/e2e/test_admin_browser.py, test_portal_browser.py) and `make lighthouse`;
#              Playwright drives it by its executable
#              path, so `playwright install` (a download of its own browser build) is never needed
#   wrk        the benchmark's smoke test (tests/e2e/test_bench_smoke.py) and `make bench`
#   promtool   the alert rule tests (tests/unit/ops/test_prometheus_rules.py), from the package prometheus
#   amtool     Alertmanager's configuration and routing tests (tests/unit/ops/test_alertmanager.py), from the
#              package prometheus-alertmanager
#   prometheus-redis-exporter, prometheus-postgres-exporter
#              the exporters' test (tests/e2e/test_exporters.py: every metric the alert rules use is exported)
#   docker-compose  `docker-compose config` on docker-compose.yml (tests/unit/ops/test_compose_structure.py; only
#              the client: no engine is needed or started), unless the `docker compose` plugin is there
#   node, npm  the npm tools of tests/browser/package.json (axe-core for the portal's browser test, Lighthouse
#              for `make lighthouse`), installed from its lockfile with `npm ci` into tests/browser/node_modules
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/.."
CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"
missing=()
[ -x "$CHROMIUM" ] || missing+=(chromium)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
command -v amtool >/dev/null 2>&1 || missing+=(prometheus-alertmanager)
command -v prometheus-redis-exporter >/dev/null 2>&1 || missing+=(prometheus-redis-exporter)
command -v prometheus-postgres-exporter >/dev/null 2>&1 || missing+=(prometheus-postgres-exporter)
if ! command -v docker-compose >/dev/null 2>&1 && ! docker compose version >/dev/null 2>&1; then
    missing+=(docker-compose)
fi
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)

# The npm packages, again only when missing or older than the lockfile; no postinstall scripts (none is needed:
# Lighthouse drives the Chromium above through CHROME_PATH and downloads no browser).
npm_tools() {
    local dir=tests/browser
    if ! command -v npm >/dev/null 2>&1; then
        echo "note: npm missing; the axe-core and Lighthouse checks will be skipped" >&2
        return 0
    fi
    if [ -f "$dir/node_modules/.package-lock.json" ] && [ ! "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
        return 0
    fi
    # A node_modules that is a symbolic link is another checkout's install (a git worktree sharing it): npm ci
    # would empty the directory it points to and install a copy here instead. Left alone.
    if [ -L "$dir/node_modules" ]; then
        echo "note: $dir/node_modules is a symbolic link (a shared install): not reinstalled here" >&2
        return 0
    fi
    echo "installing the npm tools of $dir (npm ci) ..." >&2
    if ! (cd "$dir" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error) >/tmp/ensure_test_tools_npm.log 2>&1; then
        echo "note: npm ci failed in $dir (see /tmp/ensure_test_tools_npm.log); the axe-core and Lighthouse checks will be skipped" >&2
    fi
}

if [ ${#missing[@]} -eq 0 ]; then
    npm_tools
    exit 0
fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "note: missing ${missing[*]} (as root: apt-get install -y ${missing[*]}); the tests that need them will be skipped" >&2
    npm_tools
    exit 0
fi
echo "installing Debian's ${missing[*]} for the tests that use them ..." >&2
if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"; } \
        >/tmp/ensure_test_tools.log 2>&1; then
    echo "note: could not install ${missing[*]} (see /tmp/ensure_test_tools.log); the tests that need them will be skipped" >&2
fi
# The packages start their servers as services where they can; the tests only need the binaries.
for unit in prometheus prometheus-alertmanager prometheus-redis-exporter prometheus-postgres-exporter; do
    if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$unit" 2>/dev/null; then
        systemctl stop "$unit" >/dev/null 2>&1 || true
    fi
done
npm_tools
exit 0
