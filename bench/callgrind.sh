# Sourced by bench/instructions-*: Steward serving an example site under callgrind, its
# instructions counted only while asked. Instructions in the kernel are not counted.
#
#   source "$root/bench/callgrind.sh"
#   callgrind_begin instructions-ingest ons 18207 wrk curl   # name, example, port, tools it needs
#   "$steward" init --config "$work/site.toml" ...         # $work holds the site, its data in $work/data
#   callgrind_serve "$steward"                             # serve, waiting for /livez; $url is the site
#   callgrind_count wrk ...                                # counts while the command runs
#   callgrind_total; callgrind_inclusive 'Store::WriterLoop'
#   callgrind_keep                                         # KEEP=FILE keeps the profile
callgrind_begin() {
  local name=$1 example=$2 port=$3 tool
  shift 3
  callgrind_name=$name
  local root
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  for tool in valgrind callgrind_control callgrind_annotate "$@"; do
    command -v "$tool" >/dev/null || { echo "$name: needs $tool (scripts/install-deps --bench)" >&2; exit 2; }
  done
  mkdir -p "$root/build"
  work=$(mktemp -d "$root/build/$name.XXXXXX")
  callgrind_pid=
  trap callgrind_cleanup EXIT
  url="http://127.0.0.1:$port"
  # The example with absolute paths, its data here, and loopback as a trusted proxy.
  sed -e "s|^web_dir = .*|web_dir = \"$root/web\"|" -e "s|^data_dir = .*|data_dir = \"$work/data\"|" \
      -e "s|^listen = .*|listen = \"127.0.0.1:$port\"\ntrusted_proxies = [\"127.0.0.1/32\"]|" \
      "$root/examples/$example.toml" > "$work/site.toml"
}

callgrind_cleanup() {
  [[ -n "$callgrind_pid" ]] && kill "$callgrind_pid" 2>/dev/null && wait "$callgrind_pid" 2>/dev/null || true
  rm -rf "$work"
}

callgrind_serve() {
  valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$work/callgrind.out" \
    "$1" serve --config "$work/site.toml" > "$work/serve.log" 2>&1 &
  callgrind_pid=$!
  for _ in $(seq 120); do curl -fs -o /dev/null "$url/livez" 2>/dev/null && break; sleep 1; done
  curl -fs -o /dev/null "$url/livez" || { echo "$callgrind_name: steward did not come up" >&2; cat "$work/serve.log" >&2; exit 1; }
}

# Runs the command with instructions counted, then writes the profile ($callgrind_dump).
callgrind_count() {
  callgrind_control -i on "$callgrind_pid" > /dev/null 2>&1
  "$@"
  callgrind_control -i off "$callgrind_pid" > /dev/null 2>&1
  callgrind_control -d "$callgrind_pid" > /dev/null 2>&1
  callgrind_dump=$(ls -S "$work"/callgrind.out* | head -1)
}

callgrind_total() {
  callgrind_annotate "$callgrind_dump" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}'
}

# The instructions of the first function whose name holds $1, with all it called.
callgrind_inclusive() {
  callgrind_annotate --inclusive=yes "$callgrind_dump" 2>/dev/null |
    awk -v f="$1" 'index($0, f) && !found {gsub(",", "", $1); print $1; found = 1} END {if (!found) print 0}'
}

callgrind_keep() {
  if [[ -n "${KEEP:-}" ]]; then
    cp "$callgrind_dump" "$KEEP"
    echo "callgrind profile: $KEEP (callgrind_annotate $KEEP)"
  fi
}
