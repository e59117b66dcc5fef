# Sourced by each bench script: the figures it measured, recorded for `make bench` (which writes
# them to bench/results/) and compared with the last recorded runs of the same bench (bench/history).
#
#   source "$root/bench/record.sh"
#   record_begin bench-http                 # at the start
#   record "steward req/s" 41234 "req/s" higher ">= 0.85 of nginx"   # name value unit better [aim]
#   record_end                              # at the end: the change against the last recorded runs
#
# The programs the scripts run record through STEWARD_BENCH_RECORD too (bench/record.h). Under
# `make bench` that file is the whole run's; a bench run alone records to a file of its own.
record_begin() {
  record_bench=$1
  record_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  if [[ -z "${STEWARD_BENCH_RECORD:-}" ]]; then
    STEWARD_BENCH_RECORD=$(mktemp "${TMPDIR:-/tmp}/steward-bench-record.XXXXXX")
    record_alone=1
  fi
  export STEWARD_BENCH_RECORD STEWARD_BENCH_NAME=$record_bench
}

# record NAME VALUE UNIT higher|lower [AIM]
record() {
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$record_bench" "$1" "$2" "$3" "$4" "${5:-}" >> "$STEWARD_BENCH_RECORD"
}

record_end() {
  if [[ -n "${record_alone:-}" ]]; then
    python3 "$record_root/bench/history" compare "$STEWARD_BENCH_RECORD" || true
    rm -f "$STEWARD_BENCH_RECORD"
  fi
}
