#pragma once
// Identifiers: random UUID v4 strings ("8-4-4-4-12" lowercase hex). Thread-safe (a per-thread generator).
#include <string>
#include <string_view>

namespace bora {

std::string NewUuid();
// True when `s` has the 8-4-4-4-12 hex shape of a UUID (any version). Mistral refuses such workflow names.
bool IsUuidLike(std::string_view s);

// Deterministic ids for tests and replays: a generator that yields "00000000-0000-4000-8000-<counter>".
class IdGenerator {
 public:
  virtual ~IdGenerator() = default;
  virtual std::string Next() = 0;
};
class RandomIdGenerator final : public IdGenerator {
 public:
  std::string Next() override { return NewUuid(); }
};
class SequentialIdGenerator final : public IdGenerator {
 public:
  std::string Next() override;

 private:
  unsigned long long next_ = 1;
};

}  // namespace bora
