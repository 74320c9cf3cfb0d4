#!/usr/bin/env bash
# Debian's Chromium for the browser test (tests/e2e/test_admin_browser.py), installed only when missing and
# only as root; otherwise a note, and the browser test skips. Never fails the caller: the suite runs either way.
# Playwright drives this browser through its executable path: `playwright install` (a download of its own
# browser build) is never needed.
set -u
CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ -x "$CHROMIUM" ]; then
    exit 0
fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "note: $CHROMIUM is missing (as root: apt-get install -y chromium); the browser test will be skipped" >&2
    exit 0
fi
echo "installing Debian's chromium for the browser test ..." >&2
if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; } >/tmp/ensure_chromium.log 2>&1; then
    echo "note: could not install chromium (see /tmp/ensure_chromium.log); the browser test will be skipped" >&2
fi
exit 0
