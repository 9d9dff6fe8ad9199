# c4csr — common tasks. Each target installs the system packages it needs first.
PREFIX ?= /usr/local
SWIFT ?= swift

.PHONY: deps build release test demo exchange-demo clean

deps:
	@scripts/install-deps.sh

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

## The test suite (what CI runs).
test: deps
	$(SWIFT) test

## The main job: ten cities as daemons on loopback converge; an independent verifier checks the result.
demo: release
	scripts/demo.sh

## The offline path: three cities exchange signed exports by file and audit clean.
exchange-demo: release
	scripts/exchange-demo.sh

clean:
	rm -rf .build
