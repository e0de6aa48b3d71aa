# The README's two commands, plus the other entry points. Every target installs
# what it needs first (scripts/deps.sh is a quick no-op once installed).
SHELL := /bin/bash
JOBS ?= 2

.PHONY: demo check bench asan fuzz format tidy deps clean

deps:
	scripts/deps.sh

demo: deps
	cmake --preset release >/dev/null
	cmake --build --preset release -j $(JOBS) --target skapd skapctl skap-agent
	scripts/demo.sh build/release

check: deps
	cmake --preset dev >/dev/null
	cmake --build --preset dev -j $(JOBS)
	ctest --preset dev

asan: deps
	cmake --preset asan >/dev/null
	cmake --build --preset asan -j $(JOBS)
	ctest --preset asan

fuzz:
	scripts/deps.sh fuzz
	cmake --preset fuzz >/dev/null
	cmake --build --preset fuzz -j $(JOBS)
	ctest --preset fuzz

bench:
	scripts/deps.sh bench
	bench/run.sh

format:
	git ls-files '*.cc' '*.h' | xargs clang-format -i

tidy: deps
	cmake --preset dev >/dev/null
	git ls-files 'src/*.cc' 'apps/*.cc' | xargs clang-tidy -p build/dev --quiet --extra-arg=-Wno-unknown-warning-option

clean:
	rm -rf build
