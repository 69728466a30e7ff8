#!/usr/bin/env bash
# Runs the recording load benchmark against a Release build of the server on its own throw-away database.
#   tests/load/recording-load.sh                        N = 50,100,250,500,1000, 20 s each
#   N=20 SECONDS_PER_STEP=5 tests/load/recording-load.sh   a quick smoke run
set -euo pipefail
cd "$(dirname "$0")/../.."
STEPS="${N:-50,100,250,500,1000}"
STEP_SECONDS="${SECONDS_PER_STEP:-20}"
PORT="${PORT:-5090}"
DATA="$(mktemp -d /tmp/crowd-bench-XXXXXX)"
chmod 755 "$DATA" # the embedded PostgreSQL runs as its own user when started by root
[ -d node_modules/@microsoft/signalr ] || npm ci --no-audit --no-fund --loglevel=error
dotnet build src/Crowd.Server -c Release --nologo --verbosity quiet

(cd src/Crowd.Server && exec env \
  ASPNETCORE_URLS="http://127.0.0.1:$PORT" \
  Crowd__PublicUrl="http://127.0.0.1:$PORT" \
  Crowd__DataDirectory="$DATA" \
  Crowd__RateLimits__AuthPerMinute=1000000 \
  Crowd__RateLimits__ApiPerSecond=100000 \
  Logging__LogLevel__Default=Warning \
  Logging__Console__FormatterName=simple \
  dotnet bin/Release/net10.0/Crowd.Server.dll) > "$DATA/server.log" 2>&1 &
SERVER=$!
cleanup() { kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; cp "$DATA/server.log" /tmp/crowd-bench-server.log 2>/dev/null || true; rm -rf "$DATA"; }
trap cleanup EXIT

for _ in $(seq 1 120); do
  curl -fs "http://127.0.0.1:$PORT/health" >/dev/null 2>&1 && break
  sleep 0.5
done
curl -fs "http://127.0.0.1:$PORT/health" >/dev/null || { cat "$DATA/server.log"; exit 1; }
PG_PORT="$(sed -n 4p "$DATA/postgres/cluster/postmaster.pid")"
PG_PASSWORD="$(cat "$DATA/postgres/password")"
echo "server pid $SERVER on port $PORT; $(nproc) cores; $(date -u +%FT%TZ)" >&2
node tests/load/recording-load.mjs --url "http://127.0.0.1:$PORT" \
  --pg "postgresql://crowd:$PG_PASSWORD@127.0.0.1:$PG_PORT/crowd" \
  --server-pid "$SERVER" --n "$STEPS" --seconds "$STEP_SECONDS"
