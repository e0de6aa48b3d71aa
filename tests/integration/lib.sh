# Helpers for integration tests: assertions that say what failed, and a
# private working directory removed at exit (with any server started in it).
set -euo pipefail

WORK=$(mktemp -d "${TMPDIR:-/tmp}/skap-it-XXXXXX")
PIDS=()
CLEANUP=()  # commands run at exit, after the servers are stopped
cleanup() {
  local status=$?
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  for command in "${CLEANUP[@]}"; do eval "$command" 2> /dev/null || true; done
  # Under ASan/UBSan a server reports leaks and errors only as it exits.
  if grep -l "Sanitizer\|runtime error:" "$WORK"/*.log 2> /dev/null; then
    grep -h -A20 "Sanitizer\|runtime error:" "$WORK"/*.log | head -60 >&2
    echo "not ok - a sanitizer reported an error (logs above)" >&2
    status=1
  fi
  if [[ -n "${SKAP_KEEP_WORK:-}" ]]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
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

# wait_for_socket PATH: until a server listens there (30 s at most: CI machines are slow).
wait_for_socket() {
  for _ in $(seq 300); do [[ -S "$1" ]] && return 0; sleep 0.1; done
  fail "no socket at $1"
}

# take_port VAR: sets VAR to a TCP port on 127.0.0.1 that nothing listens
# on. It stays below the kernel's ephemeral range (ip_local_port_range starts
# at 32768), where another test's outgoing connections could take it before
# our server binds it, and gives each port of this test out once.
GIVEN_PORTS=" "
take_port() {
  local taken  # not `port`: VAR may be named so, and a local would hide it
  taken=$(free_port)
  GIVEN_PORTS+="$taken "
  printf -v "$1" '%s' "$taken"
}
free_port() {
  local port
  for _ in $(seq 50); do
    port=$((20000 + RANDOM % 12000))
    [[ "$GIVEN_PORTS" == *" $port "* ]] && continue
    if ! (exec 3<> "/dev/tcp/127.0.0.1/$port") 2> /dev/null; then
      echo "$port"
      return 0
    fi
  done
  fail "no free port found"
}

# wait_for_port PORT: until something accepts TCP connections on 127.0.0.1:PORT (30 s).
wait_for_port() {
  for _ in $(seq 300); do
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
  FAULTY_SKAPD=$build/tests/faulty_skapd
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

# --- several hubs and running agents (pairwise agreements) ---

# new_hubs N [TOML-LINE...]: N hubs in $WORK/hub1 .. hubN, each with tenant
# acme, its tenant-admin alice, a provisioner pat and an admitter adam
# (hubI/WHO.token), and hubI/skapd.toml on a free port (HUB_PORT[I]), plus
# the lines given. HUB_ID[I] is each hub's id.
declare -A HUB_PORT HUB_ID HUB_PID AGENT_PID
new_hubs() {
  local n=$1 i
  shift
  for i in $(seq "$n"); do
    mkdir -p "$WORK/hub$i"
    take_port "HUB_PORT[$i]"
    HUB_ID[$i]=$("$SKAPD" init --data "$WORK/hub$i/data" | awk '{ print $2 }')
    "$SKAPD" tenant create --data "$WORK/hub$i/data" --name acme --admin alice \
      --token-out "$WORK/hub$i/alice.token" 2> /dev/null
    {
      printf 'data_dir = "%s/hub%s/data"\nhub_address = "127.0.0.1:%s"\n' "$WORK" "$i" "${HUB_PORT[$i]}"
      printf 'device_listen = "127.0.0.1:%s"\n' "${HUB_PORT[$i]}"
      [[ $# -gt 0 ]] && printf '%s\n' "$@"
    } > "$WORK/hub$i/skapd.toml"
  done
  HUBS=$n
  for i in $(seq "$n"); do start_hub_n "$i"; done
  for i in $(seq "$n"); do
    hctl "$i" alice operator add pat --role provisioner --token-out "$WORK/hub$i/pat.token" 2> /dev/null
    hctl "$i" alice operator add adam --role admitter --token-out "$WORK/hub$i/adam.token" 2> /dev/null
  done
}

# start_hub_n I [CRASH_POINT]: runs hub I's skapd (killing itself at the
# crash point if given; $HUB_ENV is added to its environment, $HUB_NOFILE,
# if set, bounds its file descriptors, and with $HUB_FAULT it is a hub that
# misbehaves so: tests/tools/faulty_skapd.cc).
start_hub_n() {
  local hub=("$SKAPD")
  if [[ -n "${HUB_FAULT:-}" ]]; then hub=("$FAULTY_SKAPD" --fault "$HUB_FAULT"); fi
  (
    if [[ -n "${HUB_NOFILE:-}" ]]; then ulimit -n "$HUB_NOFILE"; fi
    exec env SKAP_CRASH_AT="${2:-}" ${HUB_ENV:-} "${hub[@]}" run --config "$WORK/hub$1/skapd.toml"
  ) 2>> "$WORK/hub$1.log" &
  HUB_PID[$1]=$!
  PIDS+=("$!")
  wait_for_port "${HUB_PORT[$1]}"
}
stop_hub_n() { kill "${HUB_PID[$1]}" 2> /dev/null || true; wait "${HUB_PID[$1]}" 2> /dev/null || true; }

# hctl I WHO ARGS...: skapctl at hub I as operator WHO.
hctl() {
  local i=$1 who=$2
  shift 2
  SKAP_ADMIN_SOCKET=$WORK/hub$i/data/admin.sock "$SKAPCTL" --token-file "$WORK/hub$i/$who.token" "$@"
}

# network_everywhere NAME K [I...]: network NAME at every hub (or hubs I...),
# spanning those hubs with threshold K.
network_everywhere() {
  local name=$1 k=$2 i args=()
  shift 2
  local hubs=("$@")
  [[ ${#hubs[@]} -gt 0 ]] || hubs=($(seq "$HUBS"))
  for i in "${hubs[@]}"; do args+=(--hub "${HUB_ID[$i]}"); done
  for i in "${hubs[@]}"; do
    hctl "$i" alice network create "$name" > /dev/null
    hctl "$i" alice network set-hubs "$name" "${args[@]}" --threshold "$k" > /dev/null
  done
}

# provision_everywhere NETWORK NAME [I...]: device NAME at every hub of the
# network with one id, its bundles in NAME.hubI.skapbundle; prints the id.
provision_everywhere() {
  local network=$1 name=$2 i id=""
  shift 2
  local hubs=("$@")
  [[ ${#hubs[@]} -gt 0 ]] || hubs=($(seq "$HUBS"))
  for i in "${hubs[@]}"; do
    hctl "$i" pat device provision --network "$network" --name "$name" ${id:+--id "$id"} \
      --out "$WORK/$name.hub$i.skapbundle" 2> /dev/null
    [[ -n "$id" ]] || id=$(hctl "$i" alice --json device list --network "$network" |
      jq -r --arg n "$name" '.[] | select(.name==$n) | .id')
  done
  echo "$id"
}

# start_agent NAME [TOML-LINE...]: enrols agent NAME (data dir $WORK/NAME)
# from its bundles if new, and runs its daemon ($AGENT_ENV is added to its
# environment, $AGENT_TOML to its configuration; $AGENT_NOFILE, if set,
# bounds its file descriptors).
start_agent() {
  local name=$1
  shift
  if [[ ! -d "$WORK/$name" ]]; then
    # Kept: some tests hand the same bundles to the C API afterwards.
    "$AGENT" enroll --data "$WORK/$name" --keep-bundles "$WORK/$name".hub*.skapbundle > /dev/null
  fi
  {
    printf 'data_dir = "%s/%s"\nadmission_poll_s = 1\nreconnect_max_s = 1\n' "$WORK" "$name"
    printf 'agreement_timeout_s = %s\n' "${AGREEMENT_TIMEOUT:-20}"
    [[ -n "${AGENT_TOML:-}" ]] && printf '%s\n' "$AGENT_TOML"
    [[ $# -gt 0 ]] && printf '%s\n' "$@"
  } > "$WORK/$name.toml"
  rm -f "$WORK/$name/control.sock"  # left behind by a kill -9: wait for the new one
  (
    if [[ -n "${AGENT_NOFILE:-}" ]]; then ulimit -n "$AGENT_NOFILE"; fi
    exec env ${AGENT_ENV:-} "$AGENT" run --config "$WORK/$name.toml"
  ) 2>> "$WORK/agent-$name.log" &
  AGENT_PID[$name]=$!
  PIDS+=("$!")
  wait_for_socket "$WORK/$name/control.sock"
}
stop_agent() { kill "${AGENT_PID[$1]}" 2> /dev/null || true; wait "${AGENT_PID[$1]}" 2> /dev/null || true; }

# ag NAME ARGS...: skap-agent's daemon commands against agent NAME.
ag() {
  local name=$1
  shift
  "$AGENT" "$@" --data "$WORK/$name"
}

# shared_key A B: A hands out its next key for B, and B fetches that key by
# its id, both revealed (so both are spent); prints "id fingerprint key" of
# the two, which the caller compares.
shared_key() {
  local id fp hex id_b fp_b hex_b
  read -r id fp hex < <(ag "$1" key "$2" --reveal)
  read -r id_b fp_b hex_b < <(ag "$2" key "$1" --id "$id" --reveal)
  echo "$id $fp $hex / $id_b $fp_b $hex_b"
}
# expect_shared_key A B WHAT: both directions give each side the other's key.
expect_shared_key() {
  local out
  for pair in "$1 $2" "$2 $1"; do
    # shellcheck disable=SC2086 # the pair is two words on purpose
    out=$(shared_key $pair)
    [[ "$out" =~ ^([^ ]+\ [^ ]+\ [^ ]+)\ /\ (.+)$ && "${BASH_REMATCH[1]}" == "${BASH_REMATCH[2]}" ]] ||
      fail "$3 ($pair): $out"
  done
  pass "$3"
}

# sae_add AGENT SAE: SAE's client certificate from agent AGENT's CA (the
# agent stopped), in $WORK/SAE/{SAE.pem,SAE.key,ca.pem}; its fingerprint in FP[SAE].
declare -A FP
sae_add() {
  local out
  mkdir -p "$WORK/$2"
  out=$("$AGENT" sae add --data "$WORK/$1" --id "$2" --out "$WORK/$2") || fail "sae add $2: $out"
  FP[$2]=$(sed -n 's/^certificate_sha256 = "\(.*\)"$/\1/p' <<< "$out")
}
# kme_toml PORT SAE PEER-DEVICE REMOTE-SAE: an agent's [etsi014] lines
# serving SAE (at most 64 keys per request).
kme_toml() {
  printf '[etsi014]\nlisten = "127.0.0.1:%s"\nmax_keys_per_request = 64\n' "$1"
  printf '[[etsi014.sae]]\nid = "%s"\ncertificate_sha256 = "%s"\npeer = "%s"\nremote_sae = "%s"\n' \
    "$2" "${FP[$2]}" "$3" "$4"
}

# kmes_up A SAE-A B SAE-B: (re)starts agents A and B as the ETSI GS QKD 014
# KMEs of SAE-A and SAE-B, paired with each other; waits until both serve
# and reach their hubs. Their ports are in KME_PORT[A] and KME_PORT[B].
declare -A KME_PORT
kmes_up() {
  local a=$1 sae_a=$2 b=$3 sae_b=$4
  take_port "KME_PORT[$a]"
  take_port "KME_PORT[$b]"
  start_agent "$a" "$(kme_toml "${KME_PORT[$a]}" "$sae_a" "${ID[$b]}" "$sae_b")"
  start_agent "$b" "$(kme_toml "${KME_PORT[$b]}" "$sae_b" "${ID[$a]}" "$sae_a")"
  wait_for_port "${KME_PORT[$a]}"
  wait_for_port "${KME_PORT[$b]}"
  wait_until "$a reaches its hubs" "[[ \$(hubs_up $a) == $HUBS ]]"
  wait_until "$b reaches its hubs" "[[ \$(hubs_up $b) == $HUBS ]]"
}

# admit_everywhere ID [I...]: admit device ID at every hub (or hubs I...),
# once its pre-flight report is in.
admit_everywhere() {
  local id=$1 i
  shift
  local hubs=("$@")
  [[ ${#hubs[@]} -gt 0 ]] || hubs=($(seq "$HUBS"))
  for i in "${hubs[@]}"; do
    wait_until "device $id reports to hub $i" \
      "[[ \$(hctl $i adam --json device show $id | jq -r .state) == pending ]]"
    hctl "$i" adam device admit "$id" > /dev/null
  done
}

# devices_up NETWORK NAME...: each device NAME of NETWORK provisioned at
# every hub, its agent running, admitted at every hub by the admitter, and
# reaching every hub; its id in ID[NAME].
declare -A ID
devices_up() {
  local network=$1 name
  shift
  for name in "$@"; do ID[$name]=$(provision_everywhere "$network" "$name"); done
  for name in "$@"; do start_agent "$name"; done
  for name in "$@"; do admit_everywhere "${ID[$name]}"; done
  for name in "$@"; do wait_until "$name reaches $HUBS hubs" "[[ \$(hubs_up $name) == $HUBS ]]"; done
}

# hubs_up NAME: how many hubs agent NAME reaches now.
hubs_up() { ag "$1" status --json | jq .hubs_up; }

# wait_until DESCRIPTION CONDITION: polls the shell CONDITION for 30 s.
wait_until() {
  for _ in $(seq 300); do eval "$2" 2> /dev/null && return 0; sleep 0.1; done
  fail "timed out waiting: $1"
}

# mqtt_broker_up [persistent]: (re)starts a Mosquitto broker on loopback for
# the peer relay: its port in MQTT_PORT (kept across restarts), its pid in
# BROKER_PID. With "persistent" its queues outlive a clean restart.
mqtt_broker_up() {
  command -v mosquitto > /dev/null || PATH=$PATH:/usr/sbin
  if [[ -z "${MQTT_PORT:-}" ]]; then
    take_port MQTT_PORT
    {
      printf 'listener %s 127.0.0.1\nallow_anonymous true\n' "$MQTT_PORT"
      if [[ "${1:-}" == persistent ]]; then
        mkdir -p "$WORK/mqtt"
        printf 'persistence true\npersistence_location %s/mqtt/\n' "$WORK"
      fi
    } > "$WORK/mosquitto.conf"
  fi
  mosquitto -c "$WORK/mosquitto.conf" >> "$WORK/mosquitto.out" 2>&1 &
  BROKER_PID=$!
  PIDS+=("$!")
  wait_for_port "$MQTT_PORT"
}
