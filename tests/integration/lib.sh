# Helpers for integration tests: assertions that say what failed, and a
# private working directory removed at exit (with any server started in it).
set -euo pipefail

WORK=$(mktemp -d "${TMPDIR:-/tmp}/skap-it-XXXXXX")
PIDS=()
cleanup() {
  local status=$?
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  # Under ASan/UBSan a server reports leaks and errors only as it exits.
  if grep -l "Sanitizer\|runtime error:" "$WORK"/*.log 2> /dev/null; then
    grep -h -A20 "Sanitizer\|runtime error:" "$WORK"/*.log | head -60 >&2
    echo "not ok - a sanitizer reported an error (logs above)" >&2
    status=1
  fi
  rm -rf "$WORK"
  exit "$status"
}
trap cleanup EXIT

PASSED=0
pass() { PASSED=$((PASSED + 1)); echo "ok - $*"; }
fail() { echo "not ok - $*" >&2; exit 1; }

# expect_eq ACTUAL EXPECTED MESSAGE
expect_eq() { [[ "$1" == "$2" ]] && pass "$3" || fail "$3: got '$1', want '$2'"; }

# expect_fail EXIT-CODE-PATTERN MESSAGE-PATTERN DESCRIPTION -- command...
expect_fail() {
  local want_text=$1 description=$2
  shift 2
  local out
  if out=$("$@" 2>&1); then fail "$description: succeeded, should have failed"; fi
  [[ "$out" == *"$want_text"* ]] && pass "$description" || fail "$description: '$out' lacks '$want_text'"
}

# wait_for_socket PATH: until a server listens there (10 s at most).
wait_for_socket() {
  for _ in $(seq 100); do [[ -S "$1" ]] && return 0; sleep 0.1; done
  fail "no socket at $1"
}

# free_port prints a TCP port on 127.0.0.1 that nothing listens on.
free_port() {
  local port
  for _ in $(seq 50); do
    port=$((20000 + RANDOM % 40000))
    if ! (exec 3<> "/dev/tcp/127.0.0.1/$port") 2> /dev/null; then
      echo "$port"
      return 0
    fi
  done
  fail "no free port found"
}

# wait_for_port PORT: until something accepts TCP connections on 127.0.0.1:PORT.
wait_for_port() {
  for _ in $(seq 100); do
    if (exec 3<> "/dev/tcp/127.0.0.1/$1") 2> /dev/null; then return 0; fi
    sleep 0.1
  done
  fail "nothing listens on port $1"
}

# expect_killed PID DESCRIPTION: the process ended by SIGKILL (a crash point).
expect_killed() {
  local status=0
  wait "$1" 2> /dev/null || status=$?
  expect_eq "$status" 137 "$2"
}

# use_build BUILD_DIR: the binaries under test (SKAPD, SKAPCTL, AGENT); then
# work in $WORK.
use_build() {
  local build
  build=$(cd "$1" && pwd)
  SKAPD=$build/apps/skapd/skapd
  SKAPCTL=$build/apps/skapctl/skapctl
  AGENT=$build/apps/skap-agent/skap-agent
  cd "$WORK"
}

# new_hub PORT [TOML-LINE...]: a hub in $WORK/data with tenant acme and its
# tenant-admin alice (alice.token), and skapd.toml serving the device channel
# on 127.0.0.1:PORT, plus the lines given.
new_hub() {
  local port=$1
  shift
  "$SKAPD" init --data data > /dev/null
  "$SKAPD" tenant create --data data --name acme --admin alice --token-out alice.token 2> /dev/null
  {
    printf 'data_dir = "%s/data"\nhub_address = "127.0.0.1:%s"\n' "$WORK" "$port"
    printf 'device_listen = "127.0.0.1:%s"\n' "$port"
    [[ $# -gt 0 ]] && printf '%s\n' "$@"
  } > skapd.toml
  export SKAP_ADMIN_SOCKET=$WORK/data/admin.sock
}

# ctl OPERATOR ARGS...: skapctl as that operator (OPERATOR.token).
ctl() {
  local who=$1
  shift
  "$SKAPCTL" --token-file "$who.token" "$@"
}
