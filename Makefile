# heapgate: the two commands a newcomer needs (README "Quick start").
#   make demo   installs what is missing, builds, analyses the bundled example trace
#   make test   installs what is missing, builds with warnings as errors, runs every test
# Other targets: build, asan (sanitizer preset + tests), fuzz (libFuzzer targets), bench, clean.

JOBS ?= $(shell nproc)

.PHONY: demo test build asan fuzz bench clean deps-build deps-test deps-bench

deps-build:
	@scripts/deps.sh build

deps-test:
	@scripts/deps.sh test

deps-bench:
	@scripts/deps.sh bench

build: deps-build
	cmake --preset dev -DHG_TESTS=OFF >/dev/null
	cmake --build --preset dev -j $(JOBS)

demo: build
	@echo "== heapgate analyze examples/demo.txt =="
	@./build/dev/heapgate analyze examples/demo.txt; \
	  status=$$?; echo "== exit status $$status (0 pass, 1 gate failed, 2 error) =="; \
	  test $$status -le 1

test: deps-test
	cmake --preset ci >/dev/null
	cmake --build --preset ci -j $(JOBS)
	ctest --preset ci -j $(JOBS)

asan: deps-test
	cmake --preset asan >/dev/null
	cmake --build --preset asan -j $(JOBS)
	ctest --preset asan -j $(JOBS)

fuzz: deps-test
	cmake --preset fuzz >/dev/null
	cmake --build --preset fuzz -j $(JOBS)

# bench/README.md: the foundation's benchmark; AREA=NAME runs bench/NAME/run.sh, AREA=all every one.
bench: deps-bench
	bench/run.sh $(AREA)

clean:
	rm -rf build
