#!/usr/bin/env bash
# Type-checks the TypeScript client (src/journey.ts) against types generated from the live
# OpenAPI schema: if the schema stops describing the journey precisely, this fails.
#   1. the schema, from the project's venv (drf-spectacular, --validate --fail-on-warn)
#   2. npm ci, when node_modules is missing or was installed from another package-lock.json
#   3. src/schema.d.ts, with openapi-typescript (not committed: generated on every run)
#   4. no escape hatch in the hand-written sources (`as`, `<T>x`, `x!`, `any`, @ts-ignore …)
#   5. tsc --noEmit --strict
set -euo pipefail
cd "$(dirname "$0")"
HERE=$PWD
ROOT=$(cd ../.. && pwd)
PYTHON="$ROOT/.venv/bin/python"
started=$SECONDS

step() { printf '==> %s\n' "$*"; }

if [[ ! -x "$PYTHON" ]]; then
  step "no $PYTHON: setting up the venv (make .venv/.runtime)"
  make -C "$ROOT" --no-print-directory .venv/.runtime
fi

step "OpenAPI schema: manage.py spectacular --validate --fail-on-warn"
(cd "$ROOT" && "$PYTHON" manage.py spectacular --format openapi-json --validate --fail-on-warn \
  --file "$HERE/schema.json")
node -e '
  const s = require("./schema.json");
  const ops = Object.values(s.paths).reduce((n, p) => n + Object.keys(p).length, 0);
  console.log(`    ${s.info.title} ${s.info.version} (OpenAPI ${s.openapi}): ${Object.keys(s.paths).length} paths, ${ops} operations`);
'

stamp=node_modules/.installed-from
wanted=$(cat package.json package-lock.json | sha256sum | cut -d' ' -f1)
if [[ ! -f $stamp || $(cat "$stamp") != "$wanted" ]]; then
  step "npm ci (node_modules missing or stale)"
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
  echo "$wanted" >"$stamp"
else
  step "node_modules up to date with package-lock.json"
fi

step "src/schema.d.ts: openapi-typescript $(node -p 'require("openapi-typescript/package.json").version')"
# Defaults do not make a property required: openapi-typescript's default would make
# `quantity` (default 1) required in the cart's request body, which it is not.
node_modules/.bin/openapi-typescript schema.json -o src/schema.d.ts --default-non-nullable=false >/dev/null

step "no casts, any or @ts- comments in the client"
find src -name "*.ts" ! -name schema.d.ts -print0 | xargs -0 node scripts/no-escape-hatches.mjs

step "tsc --noEmit --strict ($(node_modules/.bin/tsc --version))"
node_modules/.bin/tsc --noEmit --strict -p tsconfig.json --listFilesOnly | grep '/src/' | sed "s|^$HERE/|    |"
node_modules/.bin/tsc --noEmit --strict -p tsconfig.json

step "OK: the journey type-checks against the live schema ($((SECONDS - started)) s)"
