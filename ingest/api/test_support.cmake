# bora_api_test_support: the shared backend and request helpers of the REST handler tests
# (api_test_support.h). Only with tests (it links GoogleTest). It builds the context with
# ApiService::ForEmbedded (bora_api).
if(BORA_BUILD_TESTS)
  bora_library(bora_api_test_support
    SRCS api_test_support.cc
    PUBLIC_DEPS bora_api bora_api_definitions bora_http bora_runtime bora_store GTest::gtest)
endif()
