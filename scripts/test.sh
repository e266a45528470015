#!/usr/bin/env bash
# npm test: the same preparation as npm start, then typecheck, lint and the tests against real
# PostgreSQL and Redis. The last line is "N passed, N failed" (typecheck and lint count as one each).
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/ensure.sh || exit 1
set +e  # ensure.sh runs with -e; from here every step is counted, not fatal
mkdir -p var
# The hot-path suite runs a second time against a local Redis Cluster (vitest project `cluster`).
ensure_redis_cluster || echo "[setup] the Redis Cluster is not up; its tests will fail" >&2
# The browser tests drive Debian's Chromium (with a CJK font for the Chinese kiosk page).
if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "[setup] installing chromium for the browser tests (apt-get)" >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-zenhei) >&2 || echo "[setup] chromium install failed; the browser tests will say why" >&2
fi
# The Prometheus tests check the alerting rules and a real scrape with promtool (Debian's prometheus package).
if [ ! -x /usr/bin/promtool ] && [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "[setup] installing promtool for the Prometheus tests (apt-get prometheus)" >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus) >&2 || echo "[setup] prometheus install failed; the Prometheus tests will say why" >&2
fi
passed=0; failed=0

echo "== typecheck"
if npx tsc --noEmit -p .; then passed=$((passed+1)); else failed=$((failed+1)); echo "typecheck FAILED"; fi
echo "== lint"
if npx eslint . --max-warnings=0; then passed=$((passed+1)); else failed=$((failed+1)); echo "lint FAILED"; fi
echo "== tests"
rm -f var/test-results.json
npx vitest run --reporter=default --reporter=json --outputFile.json=var/test-results.json "$@"
vitest_rc=$?
counts=$(node -e '
  const fs = require("fs");
  try {
    const r = JSON.parse(fs.readFileSync("var/test-results.json", "utf8"));
    // Files that failed to load count as failures too.
    const broken = (r.testResults || []).filter((f) => f.status === "failed" && (f.assertionResults || []).length === 0).length;
    process.stdout.write(`${r.numPassedTests} ${r.numFailedTests + broken}`);
  } catch { process.stdout.write("0 1"); }
')
passed=$((passed + ${counts% *})); failed=$((failed + ${counts#* }))
if [ "$vitest_rc" -ne 0 ] && [ "${counts#* }" = "0" ]; then failed=$((failed+1)); fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
