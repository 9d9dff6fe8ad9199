# c4csr — common tasks. Each target installs the system packages it needs first.
PREFIX ?= /usr/local
SWIFT ?= swift

.PHONY: deps build release test demo clean

deps:
	@scripts/install-deps.sh

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

## The test suite (what CI runs).
test: deps
	$(SWIFT) test

## The main job: two or three cities exchange practices and audit clean.
demo: release
	scripts/exchange-demo.sh

clean:
	rm -rf .build
