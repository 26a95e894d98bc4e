# Mistral REST conventions shared by every resource (errors, times, JSON fields, list queries).
bora_library(bora_api_common
  SRCS mistral_format.cc list_query.cc caller.cc
  PUBLIC_DEPS bora_common bora_http)

bora_test(mistral_format_test SRCS mistral_format_test.cc DEPS bora_api_common)
bora_test(list_query_test SRCS list_query_test.cc DEPS bora_api_common)
