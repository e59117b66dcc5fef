# The commands a newcomer needs. Each installs what is missing first.
#   make run         build a Release binary and serve examples/demo.toml on http://127.0.0.1:8080
#   make run-postgresql  the same from PostgreSQL (a local cluster unless STEWARD_POSTGRESQL_URL is set)
#   make test        build with AddressSanitizer + UBSan and run every test through ctest
#   make bench       every bench below in turn; the figures kept in bench/results/<date>-<commit>.json and
#                    docs/performance.md, each compared with the last recorded runs (BENCHES="query logs": some)
#   make bench-http  Steward against nginx `return 204;` on loopback, ratio printed
#   make bench-ingest  analytics events (durable 202) against nginx `return 204;`, ratio, RSS, check
#                    (BACKEND=postgresql on a throwaway cluster; INSTANCES=2 behind nginx as a balancer)
#   make bench-query   30-day dashboard queries over 10 million events, medians and the raw reference
#   make bench-soak    resident memory under events and pages together for 5 minutes, growth printed
#   make bench-logs    access-log import against GoAccess on a 2,000,000-line log: lines/s, peak RSS; then a
#                      shortened retention's purge: its longest batch against one transaction
#   make bench-feedback  feedback form posts (durable) against nginx, ratio; the inbox over 1 million items
#   make bench-retention  how long form posts wait while retention purges a backlog, against none
#   make bench-mail    one message to 100,000 subscribers through the queue to smtp-sink, against smtp-source
#   make bench-accounts  1 million citizen accounts: find by email, "Your account", an adviser's search (medians)
#   make bench-rights  1 million people across the modules: one searched, exported and erased (medians)
#   make bench-instructions  user-space instructions an analytics event and a feedback post take, under
#                    callgrind: figures the machine's noise does not move, so a 3% move is called worse
#   make fuzz        each libFuzzer target for FUZZ_SECONDS (default 60), from fuzz/corpus
#   make lint        clang-format (no changes allowed) and clang-tidy (.clang-tidy) over the tree
#   make format      apply clang-format to the tree
JOBS ?= 2
CONFIG ?= examples/demo.toml
DATA ?= var
BACKEND ?= sqlite
INSTANCES ?= 1
BENCHES ?= http ingest query soak logs feedback retention mail accounts rights instructions

.PHONY: deps build run run-postgresql test bench bench-http bench-ingest bench-soak bench-query bench-logs bench-feedback bench-retention bench-mail bench-accounts bench-rights bench-instructions fuzz lint format clean
FUZZ_SECONDS ?= 60

deps:
	@scripts/install-deps

build: deps
	@cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DSTEWARD_TESTS=OFF >/dev/null
	@cmake --build build/release -j$(JOBS) --target steward

run: build
	@build/release/src/app/steward serve --config $(CONFIG) --data $(DATA)

run-postgresql: build
	@scripts/run-postgresql build/release/src/app/steward $(DATA)

test: deps
	@cmake -S . -B build/test -G Ninja -DCMAKE_BUILD_TYPE=Debug -DSTEWARD_SANITIZE=ON >/dev/null
	@cmake --build build/test -j$(JOBS)
	@cd build/test && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --output-on-failure -j$(JOBS)

# Each bench records its figures in one file. A bench that fails stops the run: the benches before
# it are kept, its own figures are not, and make fails.
bench: build
	@record=$$(mktemp /tmp/steward-bench-record.XXXXXX); failed=; \
	for b in $(BENCHES); do \
	  echo "== make bench-$$b"; \
	  STEWARD_BENCH_RECORD=$$record $(MAKE) --no-print-directory bench-$$b || { failed=$$b; break; }; \
	done; \
	if [ -n "$$failed" ]; then \
	  grep -v "^bench-$$failed" $$record > $$record.kept || true; mv $$record.kept $$record; \
	  echo "make bench: bench-$$failed failed; its figures are not recorded" >&2; \
	fi; \
	status=0; [ -s $$record ] && { python3 bench/history save $$record || status=1; }; rm -f $$record; \
	[ -z "$$failed" ] && exit $$status; exit 1

bench-http: build
	@scripts/install-deps --bench
	@bench/bench-http build/release/src/app/steward

bench-ingest: build
	@scripts/install-deps --bench
	@BACKEND=$(BACKEND) INSTANCES=$(INSTANCES) bench/bench-ingest build/release/src/app/steward

bench-soak: build
	@scripts/install-deps --bench
	@bench/bench-soak build/release/src/app/steward

bench-query: build
	@scripts/install-deps --bench
	@cmake --build build/release -j$(JOBS) --target steward_query_bench
	@BACKEND=$(BACKEND) bench/bench-query build/release/src/app/steward build/release/bench/steward_query_bench

bench-logs: build
	@scripts/install-deps --bench
	@cmake --build build/release -j$(JOBS) --target steward_log_generator
	@bench/bench-logs build/release/src/app/steward build/release/bench/steward_log_generator

bench-feedback: build
	@scripts/install-deps --bench
	@cmake --build build/release -j$(JOBS) --target steward_feedback_bench
	@bench/bench-feedback build/release/src/app/steward build/release/bench/steward_feedback_bench

bench-instructions: build
	@scripts/install-deps --bench
	@cmake --build build/release -j$(JOBS) --target steward_feedback_bench
	@bench/instructions-ingest build/release/src/app/steward
	@bench/instructions-feedback build/release/src/app/steward build/release/bench/steward_feedback_bench

bench-retention: build
	@scripts/install-deps --bench
	@cmake --build build/release -j$(JOBS) --target steward_feedback_bench
	@bench/bench-retention build/release/src/app/steward build/release/bench/steward_feedback_bench

bench-mail: build
	@scripts/install-deps --bench
	@cmake --build build/release -j$(JOBS) --target steward_mail_bench
	@bench/bench-mail build/release/bench/steward_mail_bench

bench-accounts: build
	@cmake --build build/release -j$(JOBS) --target steward_accounts_bench
	@bench/bench-accounts build/release/bench/steward_accounts_bench

bench-rights: build
	@cmake --build build/release -j$(JOBS) --target steward_rights_bench
	@bench/bench-rights build/release/bench/steward_rights_bench

fuzz: deps
	@CC=clang CXX=clang++ cmake -S . -B build/fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DSTEWARD_FUZZ=ON -DSTEWARD_TESTS=OFF >/dev/null
	@cmake --build build/fuzz -j$(JOBS)
	@for f in urlencoded config json_body json_scan plain_request router cookie_policy log_line event stats_query consent_choice; do \
	  echo "fuzz: $$f for $(FUZZ_SECONDS)s"; mkdir -p build/fuzz/corpus/$$f build/fuzz/crashes; \
	  build/fuzz/fuzz/$${f}_fuzz -max_total_time=$(FUZZ_SECONDS) -artifact_prefix=build/fuzz/crashes/ \
	    build/fuzz/corpus/$$f fuzz/corpus/$$f > build/fuzz/$$f.log 2>&1 \
	    || { tail -40 build/fuzz/$$f.log; echo "fuzz: $$f failed; the input is in build/fuzz/crashes/"; exit 1; }; \
	  tail -1 build/fuzz/$$f.log; \
	done

SOURCES = $(shell find src tests bench fuzz -name '*.cc' -o -name '*.h')

# Boost 1.74's Asio looks for clang's coroutines in <experimental/coroutine>, which Debian's
# libstdc++ does not have, so clang-tidy is told that co_await is there (g++ finds <coroutine>).
lint: deps
	@scripts/install-deps --lint
	@clang-format --dry-run --Werror $(SOURCES)
	@cmake -S . -B build/test -G Ninja -DCMAKE_BUILD_TYPE=Debug -DSTEWARD_SANITIZE=ON >/dev/null
	@run-clang-tidy-14 -quiet -j $(JOBS) -p build/test -extra-arg=-DBOOST_ASIO_HAS_CO_AWAIT=1 '$(CURDIR)/src/.*\.cc$$'

format:
	@scripts/install-deps --lint
	@clang-format -i $(SOURCES)

clean:
	rm -rf build
