#pragma once
// Identifiers: random UUID v4 strings ("8-4-4-4-12" lowercase hex). Thread-safe (a per-thread generator).
#include <string>
#include <string_view>

namespace bora {

std::string NewUuid();
// True when `s` has the 8-4-4-4-12 hex shape of a UUID (any version). Mistral refuses such workflow names.
bool IsUuidLike(std::string_view s);
// A name-based (version 5, SHA-1) UUID of `name` in the namespace `namespace_uuid` (a UUID string): the same
// inputs give the same id in every process. Deterministic execution ids (cron ticks, event triggers) and stable
// record ids use it. An invalid `namespace_uuid` is a programming error (callers pass constants).
std::string NameBasedUuid(std::string_view namespace_uuid, std::string_view name);

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
