# bora_api: the whole REST API and event paths around a runtime (api_service.cc), used by the CLI.
bora_library(bora_api
  SRCS api_service.cc admin_api.cc services_api.cc workers_api.cc
  PUBLIC_DEPS bora_api_openapi bora_api_definitions bora_api_executions bora_api_cron bora_api_events bora_events
    bora_triggers bora_metrics_http bora_http bora_cluster bora_runtime bora_disk bora_console bora_console_files
    bora_action_worker
    yaml-cpp)

# Per-project isolation of every resource (caller.h), with Keystone identities on the requests.
bora_test(projects_api_test SRCS projects_api_test.cc
  DEPS bora_api bora_api_executions bora_api_definitions bora_api_events bora_api_test_support
       bora_runtime bora_store bora_triggers LABELS unit)
