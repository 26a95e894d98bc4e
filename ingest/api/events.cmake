# Events in: POST /v2/events, webhooks, webhook configs and event triggers (see events_api.h and
# ../events/README.md). The processing (IngestProcessor) lives in ingest/events (bora_events). The test also
# drives the Catalog (bora_api_definitions).
bora_library(bora_api_events
  SRCS events_api.cc
  PUBLIC_DEPS bora_api_common bora_http bora_events bora_runtime)
bora_test(events_api_test SRCS events_api_test.cc
  DEPS bora_api_events bora_api_definitions bora_api_test_support bora_events bora_runtime bora_store
    LABELS unit)
