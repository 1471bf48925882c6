# omsrun — see `make help`.
SHELL := /bin/bash
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo none)
LDFLAGS := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)
LAB := $(GO) run ./internal/lab/cmd/omslab

.PHONY: help build test unit e2e lint lab-up lab-down lab-status demo bench fuzz release deps

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | column -t -s $$'\t'

build: ## static binary in bin/omsrun
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/omsrun ./cmd/omsrun

unit: ## unit tests (no lab)
	$(GO) test ./...

lab-up: ## bring the lab up (LAB_HOSTS=3, LAB_DOCKER=1, LAB_IMAGE_MB)
	$(LAB) up

lab-down: ## tear the lab down, leaving nothing behind
	$(LAB) down

lab-status: ## show the lab
	$(LAB) status

e2e: build ## end-to-end tests on the lab (brings it up when needed)
	$(LAB) ensure
	OMSRUN_E2E=1 OMSRUN_BIN=$(CURDIR)/bin/omsrun $(GO) test -p 1 -count=1 -timeout 30m ./internal/e2e/...

test: unit e2e ## everything CI runs

lint: ## vet and gofmt
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)
