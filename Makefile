# statusd's build. CI calls these targets only (.ci/run); `make help` lists them.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

GO              ?= go
BIN             := bin
GOLANGCI_LINT   := $(BIN)/golangci-lint
GOLANGCI_VER    := v2.15.0
HELM            := $(BIN)/helm
HELM_VER        := v3.22.0
# A helm built by go install assumes Kubernetes 1.20 without this; it is the
# local control plane's release (tools/controlplane/build.sh).
HELM_KUBE_VER   := 1.36.0
CHART           := charts/statusd
# make image builds with this engine and tag.
CONTAINER_ENGINE ?= docker
IMAGE           ?= statusd:dev
# Keep test binaries and the control plane within the 2 cores CI has.
GOTESTFLAGS     ?= -p 2
MODULE          := statusd.io/statusd
# Packages that start goroutines or share memory between them: make test
# runs them under the race detector (slower, so not every package). A
# package that starts goroutines joins this list.
RACE_PKGS       := cmd/statusd pkg/alertmanager pkg/cel pkg/daemon pkg/emit pkg/engine pkg/promquery pkg/reload pkg/series pkg/snapshot pkg/sources internal/testenv

.PHONY: help
help: ## List the targets.
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

# statusd version prints these; a plain go build falls back to what the Go
# toolchain recorded.
VERSION         ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
COMMIT          ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)

.PHONY: build
build: ## Build bin/statusd.
	$(GO) build -ldflags "-X main.version=$(VERSION) -X main.commit=$(COMMIT)" -o $(BIN)/statusd ./cmd/statusd

.PHONY: testenv
testenv: ## Build the local control plane (etcd, kube-apiserver, controller-manager, scheduler, kwok) into bin/testenv.
	bash tools/controlplane/build.sh

.PHONY: promstack
promstack: ## Build the real Prometheus and Alertmanager the integration tests run against into bin/promstack.
	bash tools/promstack/build.sh

.PHONY: test
test: testenv promstack build helm-lint ## Run every test: unit, integration on the local control plane, and the shipped catalogue's rule tests.
	$(GO) vet ./...
	$(GO) test $(GOTESTFLAGS) -count=1 -race $(addprefix ./,$(RACE_PKGS))
	$(GO) test $(GOTESTFLAGS) -count=1 $$($(GO) list ./... | grep -vxF $(addprefix -e $(MODULE)/,$(RACE_PKGS)))
	$(MAKE) --no-print-directory test-rules

.PHONY: test-rules
test-rules: build ## Lint the shipped catalogue (warnings fatal, rule-test coverage included) and run its rule tests with coverage required.
	$(BIN)/statusd lint rules --fatal-warnings --tests rules/tests rules/catalog.yaml
	$(BIN)/statusd test rules --require-coverage rules/tests/

.PHONY: demo
demo: testenv build $(HELM) ## Start a local control plane, apply the chart, run statusd on example add-ons and print its Events; stops by itself.
	$(GO) run ./internal/demo

.PHONY: demo-alertmanager
demo-alertmanager: testenv promstack build $(HELM) ## make demo, and the same root causes paged through a real Alertmanager to a webhook that prints them; stops by itself.
	$(GO) run ./internal/demo -alertmanager

# SCALEFLAGS resizes the scale run, whose default is issue 8's size (1,000 nodes, 30,000 pods, 500
# add-on namespaces, 3 steps; 11 to 20 minutes on two shared cores), e.g. for a quick look
# SCALEFLAGS='--nodes 250 --pods 4000 --namespaces 80 --steps 1 --window 20s --out /tmp/scale'.
SCALEFLAGS ?=

.PHONY: scale
scale: testenv build ## Run statusd on a simulated cluster grown in steps under churn; writes docs/scale.md, .json and .png (11 to 20 minutes).
	$(GO) run ./internal/scale $(SCALEFLAGS)

# CHAOSFLAGS resizes the chaos run, whose default (200 nodes, 5,000 pods, 12 minutes of faults in 3
# rounds) takes about 16 minutes on two idle cores and 28 on two cores shared at a load average of 60;
# CHAOS_DURATION sets the faults' duration alone.
# For a quick look: CHAOS_DURATION=5m CHAOSFLAGS='--nodes 50 --pods 1000 --namespaces 40 --rounds 1 --out /tmp/chaos'.
CHAOSFLAGS ?=

.PHONY: chaos
chaos: testenv build $(HELM) ## Inject faults into statusd under load (apiserver, etcd, leader, RBAC, catalogue, metrics targets) and check its Events against a ledger; writes docs/chaos.md and .json (16 to 30 minutes).
	$(GO) run ./internal/chaos $(CHAOSFLAGS)

.PHONY: fmt
fmt: ## Format the code.
	gofmt -w $$(git ls-files '*.go')

.PHONY: lint
lint: $(GOLANGCI_LINT) ## Run gofmt, a check for committed merge conflict markers, go vet and golangci-lint.
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	@markers=$$(git grep -n -E '^(<<<<<<<|=======|>>>>>>>)( |$$)' -- . ':!*.golden' ':!testdata/' || true); if [ -n "$$markers" ]; then echo "merge conflict markers committed:"; echo "$$markers"; exit 1; fi
	$(GO) vet ./...
	$(GOLANGCI_LINT) run ./...

$(GOLANGCI_LINT):
	GOBIN=$(abspath $(BIN)) $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_VER)

.PHONY: helm-lint
helm-lint: $(HELM) ## Install helm into bin/, lint the chart strictly and render it (defaults and every optional object).
	$(HELM) lint --strict --kube-version $(HELM_KUBE_VER) $(CHART)
	$(HELM) lint --strict --kube-version $(HELM_KUBE_VER) --set serviceMonitor.enabled=true,prometheusRule.enabled=true,dashboard.enabled=true $(CHART)
	$(HELM) template statusd $(CHART) --namespace statusd --kube-version $(HELM_KUBE_VER) >/dev/null
	$(HELM) template statusd $(CHART) --namespace statusd --kube-version $(HELM_KUBE_VER) --set serviceMonitor.enabled=true,prometheusRule.enabled=true,dashboard.enabled=true >/dev/null
	$(HELM) lint --strict --kube-version $(HELM_KUBE_VER) --set 'prometheus.url=http://prometheus:9090,prometheus.bearerTokenSecret.name=prom-token,prometheus.tlsSecret.name=prom-tls,alertmanager.urls={http://am-0:9093,http://am-1:9093},alertmanager.bearerTokenSecret.name=am-token,clusterName=lint,externalURL=https://statusd.example' $(CHART)

# Building helm takes minutes on a small machine; it happens once.
$(HELM):
	GOBIN=$(abspath $(BIN)) $(GO) install helm.sh/helm/v3/cmd/helm@$(HELM_VER)

.PHONY: image
image: ## Build the container image (IMAGE, default statusd:dev) with CONTAINER_ENGINE (default docker); needs a running engine.
	$(CONTAINER_ENGINE) build -t $(IMAGE) .

.PHONY: generate
generate: ## Regenerate the catalogue schema, the built-in Kubernetes API schemas and other generated files.
	cd tools/controlplane && $(GO) run ./apischema -o ../../pkg/apischema/builtin.json
	$(GO) test ./schema -run TestSchema -update
	$(GO) test ./internal/chart -run '^TestGenerated$$' -count=1 -update

.PHONY: verify
verify: generate ## Regenerate generated files and fail if they differ from what is committed.
	git diff --exit-code -- schema/ $(CHART)/ pkg/apischema/
	@untracked=$$(git ls-files --others --exclude-standard -- schema/ $(CHART)/); if [ -n "$$untracked" ]; then echo "generated files not committed:"; echo "$$untracked"; exit 1; fi

# Six runs each, the fewest benchstat gives a confidence interval for. A tick
# over 100,000 pods takes seconds, so those run once per count; the
# engine's synthetic 50-reason tick over 100,000 pods (30 s an op) is left
# out: run it by hand with -bench 'Tick/pods=100000' ./pkg/engine/.
.PHONY: bench
bench: ## Run the benchmarks into bench.txt too (output benchstat can compare).
	$(GO) test -run '^$$' -bench . -skip '/pods=100000$$' -benchmem -count 6 ./internal/bench/ ./pkg/... | tee bench.txt
	$(GO) test -run '^$$' -bench '^BenchmarkTickShipped$$/^pods=100000$$' -benchtime 1x -benchmem -count 6 ./internal/bench/ | tee -a bench.txt

# FUZZTIME bounds each fuzz target's run; FUZZPARALLEL its workers (the
# two cores CI has); FUZZMINIMIZE the minimisation of each new input. Targets are found in the sources rather than with
# go test -list, which would run TestMain, and so start a control plane,
# in every package that has one. FUZZPKGS narrows the run, e.g.
# FUZZPKGS=./pkg/snapshot.
FUZZTIME        ?= 30s
FUZZPARALLEL    ?= 2
# How long the fuzzer may minimise each new interesting input (Go's default
# is 60s, which a large seed's mutation can spend whole, so that a bounded
# run finds nothing more).
FUZZMINIMIZE    ?= 2s
FUZZPKGS        ?= $(sort $(dir $(shell grep -l '^func Fuzz' $$(git ls-files 'pkg/*_test.go'))))

# Go's fuzzing coordinator (go1.26 and before) can report its own -fuzztime
# deadline as a failure, "context deadline exceeded" with no failing input
# (golang/go#75804, fixed in Go 1.27). Such a run of a target is run once
# more; a failure that wrote an input under testdata/fuzz, any other
# failure, or the same report twice still fails.
.PHONY: fuzz
fuzz: ## Run every fuzz target for FUZZTIME (default 30s) each; stops by itself.
	@set -e; for pkg in $(FUZZPKGS); do \
	  for t in $$(grep -ho '^func Fuzz[A-Za-z0-9_]*' $$pkg/*_test.go | sed 's/^func //'); do \
	    for try in 1 2; do \
	      echo "fuzz $$pkg $$t ($(FUZZTIME))"; \
	      inputs=$$pkg/testdata/fuzz/$$t; before=$$(ls $$inputs 2>/dev/null | wc -l || true); log=$$(mktemp); \
	      if $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZE) -parallel $(FUZZPARALLEL) ./$$pkg 2>&1 | tee $$log; then \
	        rm -f $$log; break; \
	      fi; \
	      if [ $$try = 1 ] && [ "$$(ls $$inputs 2>/dev/null | wc -l || true)" = "$$before" ] && grep -qx '    context deadline exceeded' $$log; then \
	        echo "fuzz $$pkg $$t: the fuzzing coordinator reported its own deadline and no failing input (golang/go#75804); running it again"; \
	        rm -f $$log; continue; \
	      fi; \
	      rm -f $$log; exit 1; \
	    done; \
	  done; \
	done

.PHONY: fuzz-smoke
fuzz-smoke: ## Run every fuzz target for a few seconds, as CI does.
	$(MAKE) --no-print-directory fuzz FUZZTIME=3s

.PHONY: clean
clean: ## Remove build output.
	rm -rf $(BIN)
