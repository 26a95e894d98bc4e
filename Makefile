# The two commands of the README:
#   make run    installs what is missing, builds, runs the demo workflow
#   make test   the same, then every test (unit, conformance, integration)
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
DEMO ?= examples/hello_world.yaml

.PHONY: all setup configure build run test clean

all: build

setup:
	@bash scripts/setup.sh

configure: setup
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS) >/dev/null

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

run: build
	@./$(BUILD)/cli/bora run $(DEMO)

# Tests of the distributed parts talk to a real redis-server and Kafka broker, started by
# scripts/services.sh; their addresses reach the tests as BORA_REDIS and BORA_KAFKA. The services of a test run
# live in the build folder, so `make test` never stops services a developer started by hand (in /tmp).
SERVICES_DIR := $(abspath $(BUILD))/services
test: build
	@export BORA_SERVICES_DIR=$(SERVICES_DIR) && eval "$$(bash scripts/services.sh start)" && \
	  cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 600; rc=$$?; \
	  cd $(CURDIR) && BORA_SERVICES_DIR=$(SERVICES_DIR) bash scripts/services.sh stop; exit $$rc

clean:
	rm -rf $(BUILD)
