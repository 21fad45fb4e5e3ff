#!/usr/bin/env bash
# Prepares what the end-to-end suite needs and prints it as KEY=VALUE lines
# on stdout (.ci/run sources them): a real Synapse, and Debian's
# python3-matrix-nio + python3-olm as an independent E2EE client.
#
# With SYNAPSE_URL and SYNAPSE_SHARED_SECRET already set (any Synapse), no
# server is started. Otherwise the shared test Synapse is installed (once)
# and started from SYNAPSE_SCRIPTS, ../shared/synapse, or /work/shared/synapse.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"

say() { printf '[e2e-env] %s\n' "$*" >&2; }

if ! /usr/bin/python3 -c 'import nio, olm' >/dev/null 2>&1; then
  say "installing python3-matrix-nio (Debian)"
  if ! apt-get install -y --no-install-recommends python3-matrix-nio >/dev/null 2>&1; then
    apt-get update >/dev/null 2>&1 || true
    apt-get install -y --no-install-recommends python3-matrix-nio >&2 || say "WARNING: could not install python3-matrix-nio; the nio tests will fail"
  fi
fi

if [ -n "${SYNAPSE_URL:-}" ] && curl -fsS "${SYNAPSE_URL}/_matrix/client/versions" >/dev/null 2>&1; then
  say "using the Synapse at ${SYNAPSE_URL}"
  echo "SYNAPSE_URL=${SYNAPSE_URL}"
  echo "SYNAPSE_SHARED_SECRET=${SYNAPSE_SHARED_SECRET:-synapse-test-shared-secret}"
  [ -n "${SYNAPSE_SCRIPTS:-}" ] && echo "SYNAPSE_SCRIPTS=${SYNAPSE_SCRIPTS}"
  exit 0
fi

scripts=""
for d in "${SYNAPSE_SCRIPTS:-}" "${here}/../shared/synapse" "/work/shared/synapse"; do
  if [ -n "$d" ] && [ -x "$d/start.sh" ]; then scripts="$(cd "$d" && pwd)"; break; fi
done
[ -n "$scripts" ] || { say "ERROR: no Synapse scripts found (set SYNAPSE_SCRIPTS or SYNAPSE_URL)"; exit 1; }

say "starting Synapse with ${scripts}/start.sh"
out="$("${scripts}/start.sh")"
printf '%s\n' "$out" | grep -E '^SYNAPSE_(URL|SHARED_SECRET|PORT|DATA_DIR)='
echo "SYNAPSE_SCRIPTS=${scripts}"
