# Definitions: the Catalog (workbooks, workflows, actions, environments over a ResourceStore) and its REST
# routes (GET /, /v2, /info, /v2/workbooks, /v2/workflows, /v2/actions, /v2/environments).
find_package(OpenSSL REQUIRED COMPONENTS Crypto)
bora_library(bora_api_definitions
  SRCS catalog.cc catalog_environments.cc catalog_members.cc definitions_api.cc workflow_graph.cc
  PUBLIC_DEPS bora_api_common bora_http bora_runtime bora_redis_store bora_language bora_store
  DEPS OpenSSL::Crypto)

bora_test(definitions_api_test SRCS definitions_api_test.cc
  DEPS bora_api_definitions bora_api_test_support LABELS unit)
# Needs $BORA_REDIS (scripts/services.sh start); fails without it.
bora_test(catalog_redis_test SRCS catalog_redis_test.cc DEPS bora_api_definitions LABELS integration)
