# Helpers for integration tests: assertions that say what failed, and a
# private working directory removed at exit (with any server started in it).
set -euo pipefail

WORK=$(mktemp -d "${TMPDIR:-/tmp}/skap-it-XXXXXX")
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
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
