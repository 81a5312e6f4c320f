# bottleneck — build, test, demo and benchmark entry points.
# `make demo` and `make test` work on a fresh Debian machine (they call `make setup`).

SWIFT ?= swift
RELEASE_BIN := .build/release/bottleneck
DEBUG_BIN := .build/debug/bottleneck

.PHONY: setup build release test test-diagnosis test-diagnosis-full demo bench fuzz clean

setup:
	@scripts/setup.sh

build: setup
	$(SWIFT) build

# Dynamic exclusivity checks off in every module, SwiftNIO's included (Package.swift can only
# turn them off in ours): in SwiftNIO's event loop they were 2% of the generator's CPU per
# request (swift_beginAccess in `perf report`, closed loop against nginx); debug builds keep them.
RELEASE_FLAGS := -Xswiftc -enforce-exclusivity=unchecked

release: setup
	$(SWIFT) build -c release --product bottleneck $(RELEASE_FLAGS)

# The layer order of the library targets (docs/architecture.md), then unit and integration tests (real sockets, real nginx, libpcap, /proc), then the test bed's own
# ground-truth suite, then `bottleneck diagnose` against every test-bed scenario.
# Setup has run, so tests gated on a dependency it installs must not skip: they fail instead.
# One test at a time (--no-parallel): many tests put real load on real servers and time it;
# beside each other on two cores they starve each other's generators (about 6 minutes serial).
test: setup
	scripts/check-architecture.py
	$(SWIFT) build --build-tests
	BOTTLENECK_REQUIRE_TEST_DEPENDENCIES=1 $(SWIFT) test --skip-build --no-parallel
	testbed/tests/run
	testbed/.venv/bin/python scripts/diagnose-testbed.py --paths ramp,rate,probe --rate-share 3 $(DEBUG_BIN)

# `bottleneck diagnose` against every test-bed scenario as CI runs it: the ramp path everywhere,
# the stated-rate path for a third of them; expected vs named culprit, N passed, N failed.
test-diagnosis: setup
	$(SWIFT) build --product bottleneck
	testbed/.venv/bin/python scripts/diagnose-testbed.py --paths ramp,rate,probe --rate-share 3 $(DEBUG_BIN)

# The full diagnosis matrix: both user paths (ramp to the knee; a fixed rate at a factor of the
# capacity measured in the same run) on every test-bed scenario (about 45 minutes on 2 cores).
test-diagnosis-full: setup
	$(SWIFT) build --product bottleneck
	testbed/.venv/bin/python scripts/diagnose-testbed.py --paths ramp,rate,probe --rate-share 1 $(DEBUG_BIN)

demo: release
	@scripts/demo.sh $(RELEASE_BIN)

bench: release
	@SWIFT_RELEASE_FLAGS="$(RELEASE_FLAGS)" scripts/bench.sh $(RELEASE_BIN)

# libFuzzer over every parser of outside input (fuzz/README.md): FUZZ_SECONDS per target (default
# 600, the release bar), FUZZ_TARGETS to pick some (default all), FUZZ_JOBS to run some at once. Builds in .build/fuzz with
# -sanitize=fuzzer,address, apart from the normal build; exits non-zero on any crash.
FUZZ_SECONDS ?= 600
fuzz: setup
	FUZZ_SECONDS=$(FUZZ_SECONDS) $(if $(FUZZ_TARGETS),FUZZ_TARGETS="$(FUZZ_TARGETS)") $(if $(FUZZ_JOBS),FUZZ_JOBS=$(FUZZ_JOBS)) SWIFT=$(SWIFT) scripts/fuzz.sh

clean:
	rm -rf .build runs bench-out
