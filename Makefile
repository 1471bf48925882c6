# omsrun — see `make help`.
SHELL := /bin/bash
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo none)
LDFLAGS := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)
LAB := $(GO) run ./internal/lab/cmd/omslab

.PHONY: help build relay-helpers test unit race e2e lint docs lab-up lab-down lab-status lab-reset lab-fault lab-check-clean demo demo-full bench bench-go fuzz release deps golden matrix

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | column -t -s $$'\t'

deps: ## install the Debian packages the lab needs (only what is missing)
	.ci/deps

build: relay-helpers ## static binary in bin/omsrun, the relay's node program for linux/amd64 and linux/arm64 embedded
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS) $$(cat $(RELAY_DIR)/.ldflags)" -o bin/omsrun ./cmd/omsrun

# The relay's node program (cmd/omsrun-relay) for every platform a node may
# run, gzipped where internal/relaybin embeds it; .ldflags stamps their
# checksums into the omsrun linked next, the only binary that trusts them.
RELAY_DIR := internal/relaybin/helpers
RELAY_PLATFORMS := linux/amd64 linux/arm64
relay-helpers: ## the relay's node program, gzipped into internal/relaybin/helpers (build and release embed it)
	@set -e; rm -f $(RELAY_DIR)/*.gz $(RELAY_DIR)/.ldflags; sums=; \
	for t in $(RELAY_PLATFORMS); do \
	  f=$(RELAY_DIR)/omsrun-relay-$${t%/*}-$${t#*/}; \
	  CGO_ENABLED=0 GOOS=$${t%/*} GOARCH=$${t#*/} $(GO) build -trimpath -ldflags '-s -w' -o $$f ./cmd/omsrun-relay; \
	  sums="$$sums$${sums:+,}$$t=$$( (sha256sum $$f 2>/dev/null || shasum -a 256 $$f) | cut -c1-64)"; \
	  gzip -9nf $$f; \
	done; \
	echo "-X github.com/omsrun/omsrun/internal/relaybin.sums=$$sums" > $(RELAY_DIR)/.ldflags

unit: ## unit tests (no lab; the e2e package runs in `make e2e`)
	$(GO) test -count=1 $$($(GO) list ./... | grep -v /internal/e2e)

race: ## unit tests under the race detector (needs gcc; the e2e package drives a separate binary, so it is left out)
	CGO_ENABLED=1 $(GO) test -race -count=1 $$($(GO) list ./... | grep -v /internal/e2e)

lab-up: ## bring the lab up (LAB_HOSTS=3, LAB_DOCKER=1, LAB_IMAGE_MB, LAB_REGIONS=2 for two regions)
	$(LAB) up

lab-down: ## tear the lab down, leaving nothing behind
	$(LAB) down

lab-status: ## show the lab
	$(LAB) status

lab-reset: ## every lab host back to bare (no containers, images, /data) and no OMS databases
	$(LAB) reset

lab-fault: ## inject a fault: make lab-fault FAULT=sshd-stop HOST=oms1 (list: go run ./internal/lab/cmd/omslab)
	$(LAB) fault $(FAULT) $(HOST)

lab-check-clean: ## fail if anything of the lab is left on the machine (CI runs it after lab-down)
	$(LAB) check-clean

E2E_RUN ?= .
e2e: build ## end-to-end tests on the lab (brings it up when needed; E2E_RUN=regexp picks tests)
	$(LAB) ensure
	OMSRUN_E2E=1 OMSRUN_BIN=$(CURDIR)/bin/omsrun $(GO) test -p 1 -count=1 -timeout 30m -run '$(E2E_RUN)' ./internal/e2e/...

test: deps unit e2e ## everything CI runs

docs: build ## regenerate docs/modules.md from the modules' schemas
	bin/omsrun modules --markdown > docs/modules.md

lint: ## vet and gofmt
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)

BENCH_FLAGS ?=
bench: build ## measure omsrun on the lab against the SSH floor and ssh docker load (~10 min; the scale part rebuilds the lab, then restores it; docs/PERFORMANCE.md)
	$(LAB) ensure
	$(GO) run ./internal/bench $(BENCH_FLAGS)

GOBENCH ?= .
GOBENCH_FLAGS ?=
bench-go: ## Go benchmarks of the in-process hot paths: playbook load and per-host evaluation, inventory load, output rendering (no lab; GOBENCH=regexp, GOBENCH_FLAGS=-count=5; docs/PERFORMANCE.md)
	$(GO) test -run '^$$' -bench '$(GOBENCH)' -benchmem $(GOBENCH_FLAGS) ./internal/playbook/ ./inventory/ ./internal/output/

FUZZTIME ?= 20s
fuzz: ## run every fuzz target (any package's func FuzzX) for FUZZTIME each
	@set -e; for dir in $$(grep -rl --include='*_test.go' '^func Fuzz' . | xargs -n1 dirname | sort -u); do \
	  for f in $$(grep -h '^func Fuzz' $$dir/*_test.go | sed 's/^func \(Fuzz[A-Za-z0-9_]*\).*/\1/'); do \
	    echo "== $$dir $$f"; $(GO) test $$dir -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME); \
	  done; \
	done

golden: ## rewrite every golden file (each package whose tests use internal/golden; review the diff before committing)
	$(GO) test -count=1 $$(grep -rl --include='*_test.go' '"github.com/omsrun/omsrun/internal/golden"' . | xargs -n1 dirname | sort -u) -update

demo: deps build ## the main job: deploy a 3-node stand-in OMS cluster on the lab
	$(LAB) ensure
	bin/omsrun playbooks/deploy.hcl -i .lab/inventory -e @.lab/vars.hcl
	@. .lab/env && echo && echo "VIP $$LAB_VIP answers:" && curl -fsS "http://$$LAB_VIP:8089/oms/health" && \
	  curl -sS -o /dev/null -w "8088 (CM, no health endpoint): HTTP %{http_code}\n" "http://$$LAB_VIP:8088/"
	bin/omsrun playbooks/status.hcl -i .lab/inventory -e @.lab/vars.hcl
	@echo && echo "Tear the lab down with: make lab-down"

demo-full: deps build ## the whole path on bare lab hosts: InfluxDB (tsdb.hcl), OMS pointed at it (deploy.hcl), omsrun's own keepalived VIP (vip.hcl)
	$(LAB) ensure
	@. .lab/env && { cat .lab/inventory.hcl; printf 'group "tsdb" {\n  host "%s" {}\n}\n' "$$LAB_HOST_3_NAME"; } > .lab/inventory-demo.hcl
	@. .lab/env && bin/omsrun playbooks/tsdb.hcl -i .lab/inventory-demo.hcl -e @.lab/vars.hcl -e tsdb_url= \
	  -e tsdb_image="$$LAB_INFLUXDB_IMAGE" -e tsdb_image_file="$$LAB_INFLUXDB_IMAGE_FILE" \
	  -e tsdb_admin_password=demo-admin-pw -e tsdb_username=oms_monitor -e tsdb_password=demo-monitor-pw
	bin/omsrun playbooks/deploy.hcl -i .lab/inventory-demo.hcl -e @.lab/vars.hcl -e tsdb_url= -e tsdb_enabled=true \
	  -e tsdb_username=oms_monitor -e tsdb_password=demo-monitor-pw
	@. .lab/env && bin/omsrun playbooks/vip.hcl -i .lab/inventory-demo.hcl -e @.lab/vars.hcl -e vip="$$LAB_KEEPALIVED_VIP" \
	  -e keepalived_image="$$LAB_KEEPALIVED_IMAGE" -e keepalived_image_file="$$LAB_KEEPALIVED_IMAGE_FILE" -e vip_password=demo-vrrp
	@. .lab/env && echo && echo "keepalived VIP $$LAB_KEEPALIVED_VIP answers:" && \
	  for i in $$(seq 1 30); do curl -fsS "http://$$LAB_KEEPALIVED_VIP:8089/oms/health" && break; sleep 1; done && echo
	@. .lab/env && bin/omsrun playbooks/status.hcl -i .lab/inventory-demo.hcl -e @.lab/vars.hcl -e tsdb_url= -e tsdb_enabled=true \
	  -e tsdb_username=oms_monitor -e tsdb_password=demo-monitor-pw -e vip="$$LAB_KEEPALIVED_VIP"
	@echo && echo "Tear the lab down with: make lab-down"

release: relay-helpers ## cross-build linux/amd64, linux/arm64, darwin/arm64 with checksums in dist/
	rm -rf dist && mkdir -p dist
	for t in linux/amd64 linux/arm64 darwin/arm64; do \
	  CGO_ENABLED=0 GOOS=$${t%/*} GOARCH=$${t#*/} $(GO) build -trimpath -ldflags "$(LDFLAGS) $$(cat $(RELAY_DIR)/.ldflags)" -o dist/omsrun-$${t%/*}-$${t#*/} ./cmd/omsrun || exit 1; \
	done
	cd dist && sha256sum omsrun-* > SHA256SUMS

MATRIX_OPS ?=
matrix: build ## the whole interruption matrix (issue #14; MATRIX_OPS=deploy,reconfigure runs only those) and its table in docs/matrix.md
	$(LAB) ensure
	OMSRUN_E2E=1 OMSRUN_BIN=$(CURDIR)/bin/omsrun OMSRUN_MATRIX=all OMSRUN_MATRIX_OPS='$(MATRIX_OPS)' OMSRUN_MATRIX_TABLE=$(CURDIR)/docs/matrix.md \
	  $(GO) test -p 1 -count=1 -timeout 120m -run 'TestInterruptionMatrix' ./internal/e2e/
