# The two commands of the README: `make run` and `make test`.
# Everything else is a thin wrapper over CMake.
BUILD      ?= build
BUILD_ASAN ?= build-asan
JOBS       ?= $(shell nproc)
CONFIG     ?=

.PHONY: all deps deps-test build run install test test-plain test-asan fuzz fuzz-build test-fuzz clean

all: build

deps:
	@.ci/deps

deps-test:
	@.ci/deps --test

$(BUILD)/Makefile: CMakeLists.txt | deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null

build: deps $(BUILD)/Makefile
	cmake --build $(BUILD) -j $(JOBS)

# `make run DEMO=1`: demo mode (plain HTTP serves the API; /demo/wire, /demo/run).
run: build
	$(BUILD)/portcullis $(if $(CONFIG),--config $(CONFIG)) $(if $(DEMO),--demo)

# `make install [PREFIX=/usr/local] [DESTDIR=...]`: see "Running it in production".
PREFIX ?= /usr/local
install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

test: deps-test test-plain test-asan test-fuzz

test-plain: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

test-asan: deps
	cmake -S . -B $(BUILD_ASAN) -DCMAKE_BUILD_TYPE=Debug -DPC_SANITIZE=ON >/dev/null
	cmake --build $(BUILD_ASAN) -j $(JOBS)
	cd $(BUILD_ASAN) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j $(JOBS)

# libFuzzer harnesses (clang): `make fuzz` runs each for FUZZ_SECONDS;
# `make test` runs each briefly (FUZZ_TEST_SECONDS) under ASan+UBSan.
BUILD_FUZZ        ?= build-fuzz
FUZZ_SECONDS      ?= 300
FUZZ_TEST_SECONDS ?= 20

fuzz-build: deps-test
	CC=clang cmake -S . -B $(BUILD_FUZZ) -DCMAKE_BUILD_TYPE=Debug -DPC_FUZZ=ON >/dev/null
	cmake --build $(BUILD_FUZZ) -j $(JOBS)

fuzz: fuzz-build
	tests/fuzz/run $(BUILD_FUZZ) $(FUZZ_SECONDS)

test-fuzz: fuzz-build
	tests/fuzz/run $(BUILD_FUZZ) $(FUZZ_TEST_SECONDS)

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_FUZZ)
