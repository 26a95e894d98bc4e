# Cron triggers: GET/POST/DELETE /v2/cron_triggers (cron_triggers_api.h). The trigger rules and the
# scheduler live in orchestrator/triggers (bora_triggers). The test uses the Catalog (bora_api_definitions).
bora_library(bora_api_cron
  SRCS cron_triggers_api.cc
  PUBLIC_DEPS bora_api_common bora_http bora_auth bora_triggers bora_runtime bora_store)
bora_test(cron_triggers_api_test SRCS cron_triggers_api_test.cc
  DEPS bora_api_cron bora_api_definitions bora_api_test_support bora_triggers bora_runtime bora_store
    LABELS unit)
# Cron triggers under Keystone: trusts against the in-memory Keystone (common/auth).
bora_test(cron_trusts_api_test SRCS cron_trusts_api_test.cc
  DEPS bora_api_cron bora_api_definitions bora_api_test_support bora_auth bora_triggers bora_runtime
    bora_store LABELS unit)
