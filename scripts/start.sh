#!/usr/bin/env bash
# npm start: prepare a fresh clone (dependencies, services, migrations) and serve.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ensure.sh
npx tsx scripts/migrate.ts
exec npx tsx src/main.ts
