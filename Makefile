# c4csr — common tasks. Each target installs the system packages it needs first.
PREFIX ?= /usr/local
DESTDIR ?=
SWIFT ?= swift
export PREFIX DESTDIR

.PHONY: deps build release test demo exchange-demo erasure-demo browser-test install uninstall check-unit deb vm-test man clean

deps:
	@scripts/install-deps.sh

build: deps
	$(SWIFT) build

## The release binary links the Swift runtime and Foundation statically: it runs on a
## Debian server without the Swift toolchain (it needs libc, libstdc++, libcurl, libsqlite3).
release: deps
	$(SWIFT) build -c release --static-swift-stdlib

## The test suite (what CI runs), in three phases on a 2-core machine. Swift Testing runs
## every suite at once in one process, and the daemons that some suites run in that process
## need the cooperative thread pool (one thread per core) that busy suites also hold; so:
##   1. everything but the suites that time live in-process daemons;
##   2. those suites, and the demo's signal test (ten daemons, timed), each serial within itself;
##   3. the load tests (a fork flood, a connection flood), each alone;
##   4. the independent Python verifier against the protocol's test vectors.
NETWORK_SUITES = DaemonTests|FaultTests|OpenPortTests|ObserverTests|ConnectionTimeoutTests|ListenErrorTests|DemoSignalTests|ForkFloodTests
test: deps
	$(SWIFT) test --skip "$(NETWORK_SUITES)"
	$(SWIFT) test --skip-build --filter "$(NETWORK_SUITES)"
	C4CSR_LOAD_TESTS=1 $(SWIFT) test --skip-build --filter aForkFloodKeepsEveryCitySyncableWithTheSameEvidence
	C4CSR_LOAD_TESTS=1 $(SWIFT) test --skip-build --filter aFloodOfIdleAndSlowConnectionsLocksNobodyOut
	python3 scripts/test_verify_export.py

## The main job: ten cities as daemons on loopback converge; an independent verifier checks the result.
demo: release
	scripts/demo.sh

## The offline path: three cities exchange signed exports by file and audit clean.
exchange-demo: release
	scripts/exchange-demo.sh

## Personal data erased across three cities' daemons on loopback, each confirming (docs/PRIVACY.md).
erasure-demo: release
	scripts/erasure-demo.sh

## The portal in headless Chromium against the demo network; screenshots in artifacts/browser/.
browser-test: release
	scripts/install-deps.sh browser
	scripts/browser-test.sh

## Install the release binary, systemd unit, sysusers/tmpfiles entries, configuration
## template and docs (DESTDIR, PREFIX, SYSCONFDIR, UNITDIR… for packagers).
install: release
	scripts/install.sh install .build/release/c4csr

uninstall:
	scripts/install.sh uninstall

## systemd-analyze verify and security on the unit; fails above exposure 1.2.
check-unit: release
	scripts/check-unit.sh .build/release/c4csr

## The Debian package dist/c4csr_VERSION_amd64.deb (stripped binary, unit, user, conffile,
## partner cards, man page, completions), checked by lintian.
deb: release
	scripts/install-deps.sh deb
	scripts/build-deb.sh .build/release/c4csr dist

## The package on a real Debian 12 booted under qemu with systemd as PID 1: install,
## two cities syncing, READY, reload, watchdog, journal, hardening, upgrade, reboot.
vm-test: deb
	scripts/install-deps.sh vm
	scripts/vm-test.sh dist

## Regenerate docs/c4csr.1 from the commands' own help (swift-argument-parser's plugin;
## a release build). A test fails when the page misses a command or an option.
## It builds in .build-man: the plugin's release build lacks --static-swift-stdlib and would
## otherwise recompile .build/release from scratch, twice.
man: deps
	$(SWIFT) package --scratch-path .build-man --allow-writing-to-package-directory generate-manual --authors "the CITIES4CSR network"
	cp .build-man/plugins/GenerateManual/outputs/c4csr/c4csr.1 docs/c4csr.1

clean:
	rm -rf .build .build-man dist
