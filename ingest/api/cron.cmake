# Cron triggers: GET/POST/DELETE /v2/cron_triggers (cron_triggers_api.h). The trigger rules and the
# scheduler live in orchestrator/triggers (bora_triggers). The test uses the Catalog
# (bora_api_definitions, declared in definitions.cmake under the same condition; linking by name
# works because targets resolve at generate time).
if(TARGET bora_http)
  bora_library(bora_api_cron
    SRCS cron_triggers_api.cc
    PUBLIC_DEPS bora_api_common bora_http bora_triggers bora_runtime bora_store)
  if(TARGET bora_redis_store AND EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/catalog.cc)
    bora_test(cron_triggers_api_test SRCS cron_triggers_api_test.cc
      DEPS bora_api_cron bora_api_definitions bora_api_test_support bora_triggers bora_runtime bora_store
        LABELS unit)
  endif()
endif()
