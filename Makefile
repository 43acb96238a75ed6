# provision: build, test, demo and benchmarks. `make help` lists the targets.

GO      ?= go
BIN     := bin/provision
PKGS    := ./...
BENCHTIME ?= 1x
# Test builds carry the crash tests' failpoints and the bench command;
# build, demo and the Dockerfile leave them out of the release binary.
TESTTAGS := -tags provisiontest

.PHONY: help build test vet fmt-check demo bench fuzz torture clean

help:
	@echo "make build   build $(BIN)"
	@echo "make test    vet, gofmt check and every test with the race detector"
	@echo "make demo    build and run the main job on sample-csv/ against the embedded emulator (again: nothing to do)"
	@echo "make bench   benchmarks, reported as ratios measured in one run"
	@echo "make fuzz    run each fuzz target for FUZZTIME (default 30s)"
	@echo "make torture kill provision run with SIGKILL TORTURE_KILLS times on TORTURE_ROWS rows under every fault, then check"

build:
	$(GO) build -o $(BIN) ./cmd/provision

vet:
	$(GO) vet $(PKGS)
	$(GO) vet $(TESTTAGS) $(PKGS)

fmt-check:
	@out="$$(gofmt -l .)"; if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

test: vet fmt-check
	$(GO) test -race -count=1 $(TESTTAGS) $(PKGS)

# The demo keeps its journal, report and emulator state in .demo/: run it
# twice and the second run creates nobody.
DEMO := .demo
demo: build
	@mkdir -p $(DEMO)
	./$(BIN) run --emulator --config sample-csv/students.yaml --journal $(DEMO)/students.journal --report $(DEMO)/students.report.csv sample-csv/students.csv

# Benchmarks, each reported as a ratio measured in one run:
#   naming 100,000 same-name rows ÷ 10,000 (Go benchmark, naming)
#   snapshot of 200,000 users, parallel ÷ sequential, and the sustained
#      request rate ÷ quota (Go benchmarks, batch/directory)
#   B1–B5 whole plans and runs against the emulator (provision bench,
#      in the test build; cmd/provision/bench.go lists them and their goals)
# BENCH_QUICK=1 runs provision bench at smaller sizes.
bench:
	$(GO) build $(TESTTAGS) -o bin/provision-test ./cmd/provision
	$(GO) test -run '^$$' -bench 'Reserve_scaling' -benchtime 5x ./naming
	$(GO) test -run '^$$' -bench 'Snapshot|SustainedRate' -benchtime 1x -timeout 30m ./batch/directory
	./bin/provision-test bench $(if $(BENCH_QUICK),--quick)

# make fuzz runs every Fuzz* target of every package, one at a time, for
# FUZZTIME each, and stops at the first failure. Go keeps the failing input
# under the package's testdata/fuzz/<target>/: commit it, and every go test
# runs it from then on. Minimising a new input may take FUZZMINIMIZETIME.
FUZZTIME ?= 30s
FUZZMINIMIZETIME ?= 10s
fuzz:
	@set -e; \
	for pkg in $$($(GO) list -f '{{if or .TestGoFiles .XTestGoFiles}}{{.ImportPath}}{{end}}' $(PKGS)); do \
		targets=$$($(GO) test -list '^Fuzz' $$pkg); \
		for target in $$(echo "$$targets" | grep '^Fuzz' || true); do \
			echo "== fuzz $$pkg $$target for $(FUZZTIME)"; \
			$(GO) test -run '^$$' -fuzz "^$$target$$" -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZETIME) $$pkg; \
		done; \
	done

# The full crash-and-fault torture; make test runs a short version.
TORTURE_ROWS  ?= 1000
TORTURE_KILLS ?= 30
torture:
	$(GO) test $(TESTTAGS) -count=1 -timeout 60m -run '^TestTorture$$' -v ./cmd/provision \
		-torture -torture.rows=$(TORTURE_ROWS) -torture.kills=$(TORTURE_KILLS) | grep -E '^(---|ok|FAIL|PASS)|torture'

clean:
	rm -rf bin $(DEMO)
