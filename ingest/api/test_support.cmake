# bora_api_test_support: the shared backend and request helpers of the REST handler tests
# (api_test_support.h). Only with tests (it links GoogleTest). It builds the context with
# ApiService::ForEmbedded (bora_api, declared in service.cmake under these conditions).
if(BORA_BUILD_TESTS AND TARGET bora_http AND TARGET bora_api_definitions)
  bora_library(bora_api_test_support
    SRCS api_test_support.cc
    PUBLIC_DEPS bora_api bora_api_definitions bora_http bora_runtime bora_store GTest::gtest)
endif()
