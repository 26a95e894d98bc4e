# Executions, tasks and action executions (Mistral REST v2): views over engine::ExecutionState and routes.
bora_library(bora_api_executions
  SRCS executions_api.cc execution_stream.cc console_api.cc tasks_api.cc action_executions_api.cc executions_internal.cc mistral_views.cc
  PUBLIC_DEPS bora_api_common bora_http bora_runtime bora_store)
bora_test(executions_api_test SRCS executions_api_test.cc
  DEPS bora_api_executions bora_api_definitions bora_api_test_support bora_runtime bora_store LABELS unit)
bora_test(console_api_test SRCS console_api_test.cc
  DEPS bora_api_executions bora_api_definitions bora_api_test_support bora_runtime bora_store LABELS unit)
