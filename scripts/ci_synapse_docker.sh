#!/usr/bin/env bash
# ci_synapse_docker.sh - start a throwaway Synapse in Docker on 127.0.0.1 for CI
# (GitHub runners), configured like the shared test Synapse (start.sh of the
# shared synapse scripts): server name localhost, shared-secret registration
# on, open registration off, federation off, every rc_* rate limit raised.
#
#     bash scripts/ci_synapse_docker.sh          # start; prints KEY=VALUE lines
#     bash scripts/ci_synapse_docker.sh stop     # remove the container
#
# Prints on stdout (the format of scripts/e2e_env.sh, which uses this Synapse
# when SYNAPSE_URL is set):
#
#     SYNAPSE_URL=http://127.0.0.1:8008
#     SYNAPSE_SHARED_SECRET=synapse-test-shared-secret
#     SYNAPSE_PORT=8008
#     SYNAPSE_DATA_DIR=...
#
# Progress goes to stderr. Environment: SYNAPSE_IMAGE (default a pinned
# matrixdotorg/synapse tag), SYNAPSE_PORT (8008), SYNAPSE_SHARED_SECRET,
# SYNAPSE_CONTAINER (container name), SYNAPSE_DATA_DIR, SYNAPSE_READY_TIMEOUT (120 s).
set -euo pipefail

IMAGE="${SYNAPSE_IMAGE:-matrixdotorg/synapse:v1.160.0}"
PORT="${SYNAPSE_PORT:-8008}"
SERVER_NAME=localhost
SHARED_SECRET="${SYNAPSE_SHARED_SECRET:-synapse-test-shared-secret}"
CONTAINER="${SYNAPSE_CONTAINER:-infinigpt-synapse-$PORT}"
DATA_DIR="${SYNAPSE_DATA_DIR:-${RUNNER_TEMP:-/tmp}/infinigpt-synapse-$PORT}"
READY_TIMEOUT="${SYNAPSE_READY_TIMEOUT:-120}"
BIND_ADDRESS=127.0.0.1 # published on loopback only

log() { printf '[ci-synapse] %s\n' "$*" >&2; }
die() {
    printf '[ci-synapse] ERROR: %s\n' "$*" >&2
    exit 1
}

if ! [[ "$PORT" =~ ^[0-9]+$ ]] || [ "$PORT" -lt 1 ] || [ "$PORT" -gt 65535 ]; then
    die "SYNAPSE_PORT must be a port number, got '$PORT'"
fi
[[ "$READY_TIMEOUT" =~ ^[0-9]+$ ]] || die "SYNAPSE_READY_TIMEOUT must be whole seconds"
[[ "$DATA_DIR" = /* ]] || die "SYNAPSE_DATA_DIR must be an absolute path, got '$DATA_DIR'"
case "$DATA_DIR" in / | /tmp | /dev/shm | /var | /var/tmp | /root | /home | "${HOME:-/}")
    die "SYNAPSE_DATA_DIR='$DATA_DIR' is too broad: it is wiped on start" ;;
esac
case "$SHARED_SECRET" in *[\"\\]* | '')
    die "SYNAPSE_SHARED_SECRET must be non-empty and contain no quote or backslash" ;;
esac
command -v docker >/dev/null 2>&1 || die "docker is not installed"
command -v curl >/dev/null 2>&1 || die "curl is not installed"

if [ "${1:-start}" = stop ]; then
    docker rm -f "$CONTAINER" >/dev/null 2>&1 || true
    log "removed container $CONTAINER (if it existed)"
    exit 0
fi
[ "${1:-start}" = start ] || die "usage: $0 [start|stop]"

docker info >/dev/null 2>&1 || die "the Docker daemon is not reachable (docker info failed)"

# --- fresh data dir and generated config ---------------------------------------

docker rm -f "$CONTAINER" >/dev/null 2>&1 || true
rm -rf -- "$DATA_DIR"
mkdir -p "$DATA_DIR"

# UID/GID: the image's entrypoint runs Synapse (and the generator) as this
# user, so the files in the data dir stay writable by the runner's user.
ids=(-e "UID=$(id -u)" -e "GID=$(id -g)")

log "pulling $IMAGE"
docker pull -q "$IMAGE" >&2 || die "could not pull $IMAGE"

log "generating the config (server name $SERVER_NAME) in $DATA_DIR"
docker run --rm -v "$DATA_DIR:/data" "${ids[@]}" \
    -e "SYNAPSE_SERVER_NAME=$SERVER_NAME" -e SYNAPSE_REPORT_STATS=no \
    "$IMAGE" generate >&2 || die "docker run ... generate failed"
config="$DATA_DIR/homeserver.yaml"
[ -s "$config" ] || die "the generator wrote no $config"

# --- patch homeserver.yaml -----------------------------------------------------
# Drop every top-level key set below (with its indented or list lines), and
# every rc_* key, then append the test settings.

overrides='listeners|public_baseurl|report_stats|registration_shared_secret|registration_shared_secret_path'
overrides+='|enable_registration'
overrides+='|enable_registration_without_verification|bcrypt_rounds|enable_metrics'
overrides+='|url_preview_enabled|federation_domain_whitelist|trusted_key_servers'
overrides+='|suppress_key_server_warning|allow_public_rooms_over_federation|rc_[A-Za-z0-9_]+'
awk -v keys="^(${overrides}):" '
    /^[^[:space:]#-]/ { skip = ($0 ~ keys) }
    /^#/ { skip = 0 }
    !skip { print }
' "$config" >"$config.new"

big='{per_second: 100000, burst_count: 1000000}'
cat >>"$config.new" <<EOF

# --- CI test settings (scripts/ci_synapse_docker.sh) ---
public_baseurl: "http://$BIND_ADDRESS:$PORT/"
report_stats: false
listeners:
  - port: $PORT
    bind_addresses: ["0.0.0.0"]
    type: http
    tls: false
    x_forwarded: false
    resources:
      - names: [client]
        compress: false
registration_shared_secret: "$SHARED_SECRET"
enable_registration: false
enable_registration_without_verification: false
bcrypt_rounds: 4
enable_metrics: false
url_preview_enabled: false
# no federation at all
federation_domain_whitelist: []
trusted_key_servers: []
suppress_key_server_warning: true
allow_public_rooms_over_federation: false
# rate limits effectively off
rc_message: $big
rc_registration: $big
rc_registration_token_validity: $big
rc_login:
  address: $big
  account: $big
  failed_attempts: $big
rc_admin_redaction: $big
rc_joins:
  local: $big
  remote: $big
rc_joins_per_room: $big
rc_key_requests: $big
rc_3pid_validation: $big
rc_invites:
  per_room: $big
  per_user: $big
  per_issuer: $big
rc_third_party_invite: $big
rc_media_create: $big
rc_presence:
  per_user: $big
rc_delayed_event_mgmt: $big
rc_room_creation: $big
rc_reports: $big
rc_user_directory: $big
EOF
mv "$config.new" "$config"

# --- start and wait ------------------------------------------------------------

log "starting $IMAGE as container $CONTAINER on http://$BIND_ADDRESS:$PORT"
docker run -d --name "$CONTAINER" -v "$DATA_DIR:/data" "${ids[@]}" \
    -p "$BIND_ADDRESS:$PORT:$PORT" "$IMAGE" >/dev/null || die "docker run failed"

url="http://$BIND_ADDRESS:$PORT"
t0=$SECONDS
while :; do
    code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 "$url/_matrix/client/versions" || true)"
    [ "$code" = 200 ] && break
    running="$(docker inspect -f '{{.State.Running}}' "$CONTAINER" 2>/dev/null || echo false)"
    if [ "$running" != true ] || [ $((SECONDS - t0)) -ge "$READY_TIMEOUT" ]; then
        if [ "$running" != true ]; then
            log "Synapse exited during startup. Last log lines:"
        else
            log "Synapse not ready after ${READY_TIMEOUT}s. Last log lines:"
        fi
        docker logs --tail 40 "$CONTAINER" >&2 2>&1 || true
        docker rm -f "$CONTAINER" >/dev/null 2>&1 || true
        die "Synapse did not start (container $CONTAINER, data $DATA_DIR)"
    fi
    sleep 0.5
done

log "ready in $((SECONDS - t0))s: $url"
echo "SYNAPSE_URL=$url"
echo "SYNAPSE_SHARED_SECRET=$SHARED_SECRET"
echo "SYNAPSE_PORT=$PORT"
echo "SYNAPSE_DATA_DIR=$DATA_DIR"
