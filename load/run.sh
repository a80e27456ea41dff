#!/usr/bin/env bash
# Load figures of the reference server (`cem serve`), on SQLite and/or PostgreSQL.
#
#   load/run.sh [sqlite|postgres|all] [duration_secs]      (default: all 20)
#
# For each backend: builds the release binary, starts `cem serve` on 127.0.0.1:18080 with a
# fresh database (a temporary SQLite file, or a PostgreSQL database cem_load_<pid> created with
# psql and dropped at the end), sets up a branch through the API and measures
#   (a) ticket issue at saturation       wrk -t2 -c32 --latency -s load/issue.lua
#   (b) full lifecycle at saturation     wrk -t16 -c16 -s load/lifecycle.lua
#       (issue -> call-next -> start -> finish, one counter per connection)
#   (c) ticket issue at half of (a)'s rate: hey -z <dur>s -c 8 -q <rate/8>
#   (d) the slowest request at saturation: wrk's max of (a) and (b)
# (wrk also gets --timeout 30s, so that no slow answer is left out of its figures), then prints
# a summary and writes it, with the details, to load/results-<backend>.txt. The server's
# output (its logs on stdout, errors on stderr) goes to load/server-<backend>.log.
#
# Each measurement gets its own freshly set-up branch (always open, 1 service, 16 counters,
# all open, a kiosk device), so that the tickets one measurement leaves do not weigh on the
# next. Before each measurement the script waits (polling every 30 s, for up to 20 min) until
# the 1-minute load average is below 1.0, and reports the load average it started at.
#
# Needs: wrk and hey (apt-get install wrk hey), curl, python3; for postgres a local
# PostgreSQL reachable as postgres://postgres@127.0.0.1:5432 with trust auth, and psql.
#
# Environment knobs (all optional):
#   CARGO_TARGET_DIR    where cargo builds (default: <repo>/target)
#   CEM_BIN             use this `cem` binary instead of building
#   CEM_LOAD_PG         PostgreSQL server URL without database (default postgres://postgres@127.0.0.1:5432)
#   CEM_LOAD_MAX_LOAD   the load average to wait for (default 1.0)
#   CEM_LOAD_MAX_WAIT   seconds to wait for it at most (default 1200)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
WHICH=${1:-all}
DUR=${2:-20}
PORT=18080
BASE=http://127.0.0.1:$PORT
API=$BASE/api/v1
PG=${CEM_LOAD_PG:-postgres://postgres@127.0.0.1:5432}
MAX_LOAD=${CEM_LOAD_MAX_LOAD:-1.0}
MAX_WAIT=${CEM_LOAD_MAX_WAIT:-1200}
ADMIN_PASSWORD="load-$$-$RANDOM$RANDOM"
COUNTERS=16

case $WHICH in
  sqlite) BACKENDS=(sqlite) ;;
  postgres) BACKENDS=(postgres) ;;
  all) BACKENDS=(sqlite postgres) ;;
  *) echo "usage: $0 [sqlite|postgres|all] [duration_secs]" >&2; exit 2 ;;
esac
[[ $DUR =~ ^[0-9]+$ && $DUR -gt 0 ]] || { echo "duration must be a positive number of seconds" >&2; exit 2; }
for tool in wrk hey curl python3; do
  command -v "$tool" >/dev/null || { echo "needs $tool (apt-get install -y wrk hey curl python3)" >&2; exit 2; }
done

# ---------------------------------------------------------------------------------------------
# Servers and databases, and their cleanup

SERVER_PID=
DB_NAME=
WORK=$(mktemp -d /tmp/cem-load.XXXXXX)

stop_server() {
  if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=
}

drop_db() {
  if [[ -n $DB_NAME ]]; then
    psql "$PG/postgres" -v ON_ERROR_STOP=1 -qc "DROP DATABASE IF EXISTS $DB_NAME WITH (FORCE)" >/dev/null ||
      echo "warning: could not drop the database $DB_NAME" >&2
    DB_NAME=
  fi
}

cleanup() {
  stop_server
  drop_db
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_server() { # backend
  local backend=$1 url
  if curl -s -o /dev/null --max-time 1 "$BASE/health"; then
    echo "something already listens on 127.0.0.1:$PORT; stop it first" >&2
    exit 1
  fi
  if [[ $backend == sqlite ]]; then
    url="sqlite:$WORK/cem-load.db"
    rm -f "$WORK"/cem-load.db*
  else
    command -v psql >/dev/null || { echo "the postgres runs need psql" >&2; exit 2; }
    DB_NAME=cem_load_$$
    psql "$PG/postgres" -v ON_ERROR_STOP=1 -qc "CREATE DATABASE $DB_NAME" >/dev/null
    url="$PG/$DB_NAME"
  fi
  LOG="$HERE/server-$backend.log"
  # The server logs to stdout (tracing's default) and reports errors on stderr: keep both.
  NO_COLOR=1 CEM_LISTEN=127.0.0.1:$PORT CEM_DATABASE_URL=$url CEM_DEMO=false \
    CEM_ADMIN_PASSWORD=$ADMIN_PASSWORD CEM_PUBLIC_PER_MINUTE=1000000000 CEM_LOG=warn \
    "$CEM" serve >"$LOG" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 600); do
    if curl -sf -o /dev/null --max-time 2 "$BASE/ready"; then return 0; fi
    kill -0 "$SERVER_PID" 2>/dev/null || { echo "the server died at start; see $LOG:" >&2; tail -20 "$LOG" >&2; exit 1; }
    sleep 0.1
  done
  echo "the server is not ready after 60 s; see $LOG" >&2
  exit 1
}

# ---------------------------------------------------------------------------------------------
# The API, through curl

TOKEN=
# api METHOD PATH [JSON] [TOKEN]: prints the body; fails on anything but 2xx.
api() {
  local method=$1 path=$2 body=${3-} token=${4:-$TOKEN} out code
  local args=(-sS --max-time 30 -X "$method" "$API$path" -w $'\n%{http_code}')
  [[ -n $token ]] && args+=(-H "authorization: Bearer $token")
  [[ -n $body ]] && args+=(-H 'content-type: application/json' -d "$body")
  out=$(curl "${args[@]}")
  code=${out##*$'\n'}
  out=${out%$'\n'*}
  if [[ $code != 2* ]]; then
    echo "setup failed: $method $path -> $code $out" >&2
    return 1
  fi
  printf '%s' "$out"
}
# json EXPR: evaluates a Python expression on the JSON document `d` read from stdin.
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
uuid() { cat /proc/sys/kernel/random/uuid; }

sign_in() {
  TOKEN=
  TOKEN=$(api POST /auth/login "{\"login\":\"admin\",\"password\":\"$ADMIN_PASSWORD\"}" "" | json 'd["token"]')
  ORG=$(api GET /organization | json 'd["id"]')
  # Without the demo the organization has no priority class yet, and a branch needs one.
  local class
  class=$(uuid)
  api PUT "/classes/$class" "{\"id\":\"$class\",\"code\":\"normal\",\"name\":{\"en\":\"Normal\"},\"rank\":1,\"weight\":1}" >/dev/null
}

# new_branch NAME: an always-open branch (the organization's one class `normal`) with one service, 16 counters (all open) and a kiosk.
# Sets BRANCH, SERVICE, COUNTER_IDS (comma-separated) and KIOSK.
new_branch() {
  local name=$1 i c ids=()
  BRANCH=$(uuid)
  SERVICE=$(uuid)
  api PUT "/branches/$BRANCH" "{\"id\":\"$BRANCH\",\"organization\":\"$ORG\",\"name\":{\"en\":\"$name\"},\"time_zone\":\"UTC\",\"opening_hours\":[]}" >/dev/null
  api PUT "/branches/$BRANCH/services/$SERVICE" "{\"id\":\"$SERVICE\",\"prefix\":\"A\",\"name\":{\"en\":\"Load\"},\"expected_service_secs\":180,\"target_wait_secs\":600}" >/dev/null
  for i in $(seq 1 $COUNTERS); do
    c=$(uuid)
    api PUT "/branches/$BRANCH/counters/$c" "{\"id\":\"$c\",\"number\":$i,\"profile\":{\"services\":[{\"service\":\"$SERVICE\"}]}}" >/dev/null
    ids+=("$c")
  done
  for c in "${ids[@]}"; do api POST "/branches/$BRANCH/counters/$c/open" >/dev/null; done
  COUNTER_IDS=$(IFS=,; echo "${ids[*]}")
  KIOSK=$(api POST "/branches/$BRANCH/devices" '{"kind":"kiosk","name":"Load kiosk"}' | json 'd["token"]')
}

# ---------------------------------------------------------------------------------------------
# Measuring

# Waits until the 1-minute load average is below MAX_LOAD (polling every 30 s, MAX_WAIT s at
# most); sets LOAD_AT to the three load averages when the measurement starts.
wait_quiet() {
  local waited=0 l
  while :; do
    l=$(cut -d' ' -f1 /proc/loadavg)
    if python3 -c "import sys; sys.exit(0 if $l < $MAX_LOAD else 1)"; then break; fi
    if ((waited >= MAX_WAIT)); then
      echo "  load average still $l after ${waited} s: measuring anyway" >&2
      break
    fi
    echo "  load average $l >= $MAX_LOAD: waiting 30 s (${waited} s so far)" >&2
    sleep 30
    waited=$((waited + 30))
  done
  LOAD_AT=$(cut -d' ' -f1-3 /proc/loadavg)
}

# The server's request counters by method, path and status, and its latency histograms (from
# /metrics).
metrics_snapshot() { curl -sf --max-time 10 "$BASE/metrics" | grep -E '^http_request(s_total|_duration_seconds)' || true; }

# The server's own latency figures between two snapshots, per route: requests timed, the
# bucket holding the median and the p99 (upper bounds), and how many took over 10 ms, 100 ms
# and 1 s. Measured inside the server (no client, no coordinated-omission correction); requests
# that hit the server's 10 s timeout are not in them (the timeout is outside the measuring).
server_latency_between() { # before after
  python3 - "$1" "$2" <<'PY'
import re, sys
def load(path):
    out = {}
    for line in open(path):
        m = re.match(r'http_request_duration_seconds_bucket\{(.*)\} (\S+)', line)
        if m:
            labels = dict(re.findall(r'(\w+)="([^"]*)"', m.group(1)))
            le = float("inf") if labels["le"] == "+Inf" else float(labels["le"])
            out.setdefault((labels["method"], labels["path"]), {})[le] = float(m.group(2))
    return out
before, after = load(sys.argv[1]), load(sys.argv[2])
def fmt(le):
    return "> 5 s" if le == float("inf") else (f"{le * 1000:g} ms" if le < 1 else f"{le:g} s")
for route, buckets in sorted(after.items()):
    prev = before.get(route, {})
    cum = sorted((le, n - prev.get(le, 0)) for le, n in buckets.items())
    total = cum[-1][1]
    if total <= 0:
        continue
    def quantile(q):
        return next(le for le, n in cum if n >= q * total)
    def over(x):
        return int(total - dict(cum)[x])
    print(f"{route[0]} {route[1]}: {int(total)} timed; median <= {fmt(quantile(0.5))}, "
          f"p99 <= {fmt(quantile(0.99))}; over 10 ms: {over(0.01)}, over 100 ms: {over(0.1)}, "
          f"over 1 s: {over(1.0)}")
PY
}

# Non-2xx answers between two snapshots: "METHOD PATH STATUS COUNT" lines.
non2xx_between() { # before after
  python3 - "$1" "$2" <<'PY'
import re, sys
def load(path):
    out = {}
    for line in open(path):
        m = re.match(r'http_requests_total\{(.*)\} (\S+)', line)
        if m:
            labels = dict(re.findall(r'(\w+)="([^"]*)"', m.group(1)))
            key = (labels.get("method"), labels.get("path"), labels.get("status"))
            out[key] = float(m.group(2))
    return out
before, after = load(sys.argv[1]), load(sys.argv[2])
for key, n in sorted(after.items()):
    d = n - before.get(key, 0)
    if d > 0 and not key[2].startswith("2"):
        print(f"{key[0]} {key[1]} {key[2]} {int(d)}")
PY
}

# After a measurement: is the server still alive and answering?
check_alive() {
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "DEAD (the server exited; see $LOG)"
  elif curl -sf -o /dev/null --max-time 5 "$BASE/ready"; then
    echo "ok"
  else
    echo "NOT READY within 5 s"
  fi
}

field() { # RESULT-line key
  sed -n 's/.*[ ]'"$2"'=\([^ ]*\).*/\1/p' <<<"$1" | head -1
}
ms() { python3 -c "print(f'{$1/1000:.2f}')"; }

run_backend() {
  local backend=$1 out=$WORK/$1 line
  mkdir -p "$out"
  echo "== $backend: starting cem on $BASE"
  start_server "$backend"
  sign_in

  # (a) issue at saturation
  new_branch "Load issue"
  echo "== $backend (a): ticket issue at saturation, ${DUR} s"
  wait_quiet; LOAD_A=$LOAD_AT
  metrics_snapshot >"$out/m0"
  CMD_A="wrk -t2 -c32 -d${DUR}s --timeout 30s --latency -s load/issue.lua $BASE"
  CEM_BRANCH=$BRANCH CEM_SERVICE=$SERVICE CEM_KIOSK=$KIOSK \
    wrk -t2 -c32 -d"${DUR}s" --timeout 30s --latency -s "$HERE/issue.lua" "$BASE" >"$out/a.txt" 2>&1 || true
  metrics_snapshot >"$out/m1"
  ALIVE_A=$(check_alive)
  RES_A=$(grep '^RESULT' "$out/a.txt" || echo "RESULT rps=0")
  NON2XX_A=$(non2xx_between "$out/m0" "$out/m1")
  SRV_A=$(server_latency_between "$out/m0" "$out/m1")
  ISSUE_RPS=$(field "$RES_A" rps)
  echo "   $RES_A  (load before: $LOAD_A; server: $ALIVE_A)"

  # (b) lifecycle at saturation
  new_branch "Load lifecycle"
  echo "== $backend (b): issue -> call-next -> start -> finish at saturation, ${DUR} s"
  wait_quiet; LOAD_B=$LOAD_AT
  metrics_snapshot >"$out/m2"
  CMD_B="wrk -t16 -c16 -d${DUR}s --timeout 30s --latency -s load/lifecycle.lua $BASE"
  CEM_BRANCH=$BRANCH CEM_SERVICE=$SERVICE CEM_KIOSK=$KIOSK CEM_ADMIN=$TOKEN CEM_COUNTERS=$COUNTER_IDS \
    wrk -t16 -c16 -d"${DUR}s" --timeout 30s --latency -s "$HERE/lifecycle.lua" "$BASE" >"$out/b.txt" 2>&1 || true
  metrics_snapshot >"$out/m3"
  ALIVE_B=$(check_alive)
  RES_B=$(grep '^RESULT' "$out/b.txt" || echo "RESULT lifecycles_per_s=0")
  FAIL_B=$(grep '^FAIL' "$out/b.txt" | sed 's/^FAIL //' || true)
  NON2XX_B=$(non2xx_between "$out/m2" "$out/m3")
  SRV_B=$(server_latency_between "$out/m2" "$out/m3")
  echo "   $RES_B  (load before: $LOAD_B; server: $ALIVE_B)"

  # (c) issue at half the saturation rate
  new_branch "Load half rate"
  local rate per_worker
  rate=$(python3 -c "print(int(float('${ISSUE_RPS:-0}') / 2))")
  per_worker=$(python3 -c "print(f'{max($rate, 8) / 8:.2f}')")
  echo "== $backend (c): ticket issue at $rate/s (8 workers x $per_worker/s), ${DUR} s"
  wait_quiet; LOAD_C=$LOAD_AT
  metrics_snapshot >"$out/m4"
  CMD_C="hey -z ${DUR}s -c 8 -q $per_worker -m POST -T application/json -H 'authorization: Bearer <kiosk token>' -d '{\"service\":\"<service>\"}' $API/branches/<branch>/tickets"
  hey -z "${DUR}s" -c 8 -q "$per_worker" -m POST -T application/json -H "authorization: Bearer $KIOSK" \
    -d "{\"service\":\"$SERVICE\"}" \
    "$API/branches/$BRANCH/tickets" >"$out/c.txt" 2>&1 || true
  metrics_snapshot >"$out/m5"
  ALIVE_C=$(check_alive)
  NON2XX_C=$(non2xx_between "$out/m4" "$out/m5")
  SRV_C=$(server_latency_between "$out/m4" "$out/m5")
  RES_C=$(python3 - "$out/c.txt" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
def secs(pattern):
    m = re.search(pattern, text)
    return float(m.group(1)) * 1000 if m else float("nan")
rps = re.search(r"Requests/sec:\s*([\d.]+)", text)
statuses = " ".join(f"{c}:{n}" for c, n in re.findall(r"\[(\d+)\]\s+(\d+) responses", text))
errors = re.search(r"Error distribution:\n((?:.*\n?)*)", text)
nerr = sum(int(n) for n in re.findall(r"^\s*\[(\d+)\]", errors.group(1), re.M)) if errors else 0
p50, p90, p99 = (secs(r"%d%%+ in ([\d.]+) secs" % q) for q in (50, 90, 99))
slowest = secs(r"Slowest:\s*([\d.]+) secs")
rate = float(rps.group(1)) if rps else 0.0
print(f"RESULT rps={rate:.1f} p50_ms={p50:.2f} p90_ms={p90:.2f} p99_ms={p99:.2f} "
      f"max_ms={slowest:.2f} statuses={statuses or '-'} errors={nerr}")
PY
)
  echo "   $RES_C  (load before: $LOAD_C; server: $ALIVE_C)"

  stop_server
  drop_db

  # Summary and details
  local max_a max_b max_sat
  max_a=$(field "$RES_A" max_us); max_b=$(field "$RES_B" max_us)
  max_sat=$(python3 -c "print(f'{max(${max_a:-0}, ${max_b:-0})/1000:.1f}')")
  local log_lines
  log_lines=$(grep -cE ' (WARN|ERROR) |panicked' "$LOG" || true)
  {
    echo "CEM load figures: backend $backend, ${DUR} s per measurement, $(date -u '+%Y-%m-%d %H:%M:%SZ'), $(nproc) cores"
    echo "server: $CEM ($BUILT_FROM)"
    echo
    printf '%-9s %10s %13s %18s %22s\n' backend issue/s lifecycles/s "p99@half (ms)" "max@saturation (ms)"
    printf '%-9s %10s %13s %18s %22s\n' "$backend" "$ISSUE_RPS" "$(field "$RES_B" lifecycles_per_s)" \
      "$(field "$RES_C" p99_ms)" "$max_sat"
    echo
    echo "(a) ticket issue at saturation: $CMD_A"
    echo "    load average before: $LOAD_A; server afterwards: $ALIVE_A"
    echo "    requests/s $(field "$RES_A" rps) ($(field "$RES_A" requests) in $(field "$RES_A" secs) s);" \
      "latency p50 $(ms "$(field "$RES_A" p50_us)") ms, p90 $(ms "$(field "$RES_A" p90_us)") ms," \
      "p99 $(ms "$(field "$RES_A" p99_us)") ms, p99.9 $(ms "$(field "$RES_A" p999_us)") ms, max $(ms "$(field "$RES_A" max_us)") ms"
    echo "    non-2xx (wrk): $(field "$RES_A" non2xx); socket errors: connect $(field "$RES_A" connect_err)," \
      "read $(field "$RES_A" read_err), write $(field "$RES_A" write_err), timeouts $(field "$RES_A" timeouts)"
    echo "    non-2xx by the server's /metrics: ${NON2XX_A:-none}"
    echo "    the server's own latency (/metrics):"
    sed 's/^/      /' <<<"${SRV_A:-none}"
    echo
    echo "(b) lifecycle at saturation: $CMD_B"
    echo "    load average before: $LOAD_B; server afterwards: $ALIVE_B"
    echo "    lifecycles/s $(field "$RES_B" lifecycles_per_s) ($(field "$RES_B" lifecycles) completed in $(field "$RES_B" secs) s);" \
      "requests/s $(field "$RES_B" rps)"
    echo "    lifecycles completed per connection: $(field "$RES_B" per_connection | tr , ' ')"
    echo "    answers (any status) per connection:  $(field "$RES_B" answers_per_connection | tr , ' ')"
    echo "    latency (all four steps) p50 $(ms "$(field "$RES_B" p50_us)") ms, p90 $(ms "$(field "$RES_B" p90_us)") ms," \
      "p99 $(ms "$(field "$RES_B" p99_us)") ms, p99.9 $(ms "$(field "$RES_B" p999_us)") ms, max $(ms "$(field "$RES_B" max_us)") ms"
    echo "    non-2xx (wrk): $(field "$RES_B" non2xx); socket errors: connect $(field "$RES_B" connect_err)," \
      "read $(field "$RES_B" read_err), write $(field "$RES_B" write_err), timeouts $(field "$RES_B" timeouts)"
    echo "    failed steps (step status code count): ${FAIL_B:-none}" | sed '2,$s/^/                                          /'
    echo "    non-2xx by the server's /metrics: ${NON2XX_B:-none}"
    echo "    the server's own latency (/metrics):"
    sed 's/^/      /' <<<"${SRV_B:-none}"
    echo
    echo "(c) ticket issue at half the saturation rate ($rate/s): $CMD_C"
    echo "    load average before: $LOAD_C; server afterwards: $ALIVE_C"
    echo "    requests/s $(field "$RES_C" rps); latency p50 $(field "$RES_C" p50_ms) ms, p90 $(field "$RES_C" p90_ms) ms," \
      "p99 $(field "$RES_C" p99_ms) ms, max $(field "$RES_C" max_ms) ms"
    echo "    status codes: $(field "$RES_C" statuses); client errors: $(field "$RES_C" errors)"
    echo "    non-2xx by the server's /metrics: ${NON2XX_C:-none}"
    echo "    the server's own latency (/metrics):"
    sed 's/^/      /' <<<"${SRV_C:-none}"
    echo
    echo "(d) slowest request at saturation (max of (a) and (b)): $max_sat ms"
    echo
    echo "Note: wrk 4.1 corrects its latency histogram for coordinated omission before printing it"
    echo "and before done(): every answer slower than the mean interval between two requests of a"
    echo "connection adds synthetic samples. A few very slow answers therefore inflate wrk's"
    echo "percentiles and mean; its max is a real answer. The server's own figures above are not"
    echo "corrected."
    echo
    echo "server log ($LOG): $(wc -l <"$LOG") lines, $log_lines WARN/ERROR/panic lines"
    echo
    echo "---- raw output of (a) ----"; cat "$out/a.txt"
    echo "---- raw output of (b) ----"; cat "$out/b.txt"
    echo "---- raw output of (c) ----"; cat "$out/c.txt"
  } >"$HERE/results-$backend.txt"
  SUMMARY+=("$(printf '%-9s %10s %13s %18s %22s   %s' "$backend" "$ISSUE_RPS" \
    "$(field "$RES_B" lifecycles_per_s)" "$(field "$RES_C" p99_ms)" "$max_sat" "$LOAD_A / $LOAD_B / $LOAD_C")")
  echo "== $backend: details in load/results-$backend.txt"
}

# ---------------------------------------------------------------------------------------------

# The revision the binary was built from (the work tree may move on during a long run).
BUILT_FROM="git $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"
BUILT_FROM_PREFIX="built from"
if [[ -n $(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null) ]]; then
  BUILT_FROM+=" with uncommitted changes"
fi
if [[ -n ${CEM_BIN:-} ]]; then
  CEM=$CEM_BIN
  BUILT_FROM_PREFIX="given with CEM_BIN; the work tree was at"
else
  echo "== building: cargo build --release -p cem-server"
  (cd "$ROOT" && cargo build --release -p cem-server)
  CEM=${CARGO_TARGET_DIR:-$ROOT/target}/release/cem
fi
[[ -x $CEM ]] || { echo "no binary at $CEM" >&2; exit 1; }
BUILT_FROM="$BUILT_FROM_PREFIX $BUILT_FROM"

SUMMARY=()
for backend in "${BACKENDS[@]}"; do
  run_backend "$backend"
done

echo
echo "Summary (${DUR} s per measurement; 1/5/15-min load averages before (a) / (b) / (c))"
printf '%-9s %10s %13s %18s %22s   %s\n' backend issue/s lifecycles/s "p99@half (ms)" "max@saturation (ms)" "load averages"
printf '%s\n' "${SUMMARY[@]}"
