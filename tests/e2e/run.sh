#!/bin/bash
# Runs one browser test: installs playwright-core from package-lock.json
# when node_modules is missing (never a browser: Debian's chromium is used),
# then runs the test file, which prints TAP.
#   usage: tests/e2e/run.sh tests/e2e/FILE.mjs
set -eu
here=$(cd "$(dirname "$0")" && pwd)
if [ ! -d "$here/node_modules/playwright-core" ]; then
	(cd "$here" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit \
	    --no-fund --loglevel=error >&2)
fi
exec node "$1"
