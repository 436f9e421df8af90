# twinvip — every target runs the project on the pinned Node.js 24 from node_modules,
# never the machine's own node.
SHELL := /bin/bash
ARCH ?= $(shell uname -m | sed -e 's/x86_64/x64/' -e 's/aarch64/arm64/')
HOST_ARCH := $(shell uname -m | sed -e 's/x86_64/x64/' -e 's/aarch64/arm64/')
NODE := $(CURDIR)/node_modules/node-linux-$(HOST_ARCH)/bin/node
BIN := $(CURDIR)/node_modules/.bin
export PATH := $(CURDIR)/node_modules/node-linux-$(HOST_ARCH)/bin:$(PATH)

.PHONY: deps deps-npm deps-system addon build typecheck test test-unit test-integration test-stress bench demo clean rootfs check-examples bench-nginx bench-stray bench-soak

deps: deps-npm deps-system

deps-npm: node_modules/.installed
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	@test -x $(NODE) || { echo "twinvip: pinned Node.js runtime missing at $(NODE)"; exit 1; }
	touch $@

deps-system:
	bash scripts/deps-system.sh

# The raw-socket N-API addon (native/), built with plain gcc against the pinned runtime's
# headers; ARCH=arm64 on an x64 host cross-compiles with aarch64-linux-gnu-gcc.
addon: deps-npm
	$(MAKE) -C native ARCH=$(ARCH)

build: deps-npm addon
	$(NODE) scripts/build.mjs

typecheck: deps-npm
	$(NODE) $(BIN)/tsc -p tsconfig.json

test-unit: deps-npm
	$(NODE) $(BIN)/vitest run --project unit

# The two integration projects at once (vitest.config.ts): `integration` (files that create network
# namespaces, one at a time) in the foreground, `integration-local` (the rest, its own worker)
# beside it, its report printed after.
test-integration: deps build
	@mkdir -p out; \
	$(NODE) $(BIN)/vitest run --project integration-local > out/test-integration-local.log 2>&1 & loc=$$!; \
	$(NODE) $(BIN)/vitest run --project integration; ns=$$?; \
	wait $$loc; locrc=$$?; \
	echo; echo "=== integration-local project (ran beside; out/test-integration-local.log) ==="; cat out/test-integration-local.log; \
	echo "make test-integration: integration exit $$ns, integration-local exit $$locrc"; \
	[ $$ns -eq 0 ] && [ $$locrc -eq 0 ]

# All at once: each check is a node start-up that waits for the CPU on a busy machine (8 files took
# 63 s one after the other at load 20, 3 s of CPU in all).
check-examples: build
	@pids=; for f in rootfs/etc/twinvip/*.json examples/*.json; do \
	  [ -e "$$f" ] || continue; \
	  { $(NODE) dist/twinvip.js check --offline -c "$$f" >/dev/null || { echo "FAIL: $$f"; $(NODE) dist/twinvip.js check --offline -c "$$f"; exit 1; }; \
	    echo "ok: $$f"; } & pids="$$pids $$!"; \
	done; rc=0; for p in $$pids; do wait $$p || rc=1; done; exit $$rc

# Everything CI runs. A suite whose prerequisite (root, a program) is missing fails with the
# reason; TWINVIP_ALLOW_SKIP=1 makes it a skip instead (test/README.md).
# Three vitest runs at the same time (one `vitest run` of several projects runs projects with
# different worker counts one after the other, adding their wall times): the namespace files
# (`integration`, one at a time, by the project's standard) in the foreground; beside it the
# integration files that create no namespace (`integration-local`, its own worker) and the unit
# project (fake clock, a worker per CPU). Their reports are kept in out/ and printed after the
# namespace project's; make test fails when any of the three fails.
test: deps typecheck build check-examples
	@mkdir -p out; \
	$(NODE) $(BIN)/vitest run --project unit > out/test-unit.log 2>&1 & unit=$$!; \
	$(NODE) $(BIN)/vitest run --project integration-local > out/test-integration-local.log 2>&1 & loc=$$!; \
	$(NODE) $(BIN)/vitest run --project integration; ns=$$?; \
	wait $$loc; locrc=$$?; wait $$unit; unitrc=$$?; \
	echo; echo "=== integration-local project (ran beside; out/test-integration-local.log) ==="; cat out/test-integration-local.log; \
	echo; echo "=== unit project (ran beside; out/test-unit.log) ==="; cat out/test-unit.log; \
	echo "make test: integration project exit $$ns, integration-local project exit $$locrc, unit project exit $$unitrc"; \
	[ $$ns -eq 0 ] && [ $$locrc -eq 0 ] && [ $$unitrc -eq 0 ]

# Not part of `make test`: the integration projects (side by side) STRESS_RUNS times (default 5) under stress-ng
# CPU + I/O load, then the failures per test (test/README.md records the latest result).
test-stress: deps build
	$(NODE) test/stress/run.mjs

bench-nginx: deps-npm ; $(NODE) bench/nginx/run.mjs
bench-stray: deps build ; $(NODE) bench/stray/run.mjs
# Issue 22's soak (bench/README.md "soak"): SOAK_MINUTES=120 for the 2-hour run.
bench-soak: deps build ; $(NODE) bench/soak.mjs --minutes $(or $(SOAK_MINUTES),30)
bench: deps build
	$(NODE) bench/run.mjs

demo: deps build
	$(NODE) dist/twinvip.js demo

# One tarball to unpack over a root filesystem: out/twinvip-<version>-linux-<arch>.tar.gz with the
# Node.js runtime for ARCH (npm package node-linux-<arch>, cached in out/cache), the bundle, the
# addon and bindings-cpp's prebuilds for ARCH, boards and the rootfs/ overlay (README: Appliance
# image). ARCH=arm64 on x64 cross-compiles the addon (make deps-system installs the compiler).
# BOARD=NAME: the board whose hardware watchdog systemd drives (board/NAME/board.json; default
# generic-arm64 for arm64, none for x64).
rootfs: build
	$(NODE) scripts/rootfs.mjs --arch $(ARCH) $(if $(BOARD),--board $(BOARD))

clean:
	rm -rf dist out native/build
