#pragma once
// Strong id types: a value of one kind of id cannot be passed where another kind (or a bare string
// or integer) is expected. StrongId<Tag, T> wraps a T: built explicitly from a T, read with
// value(), compared and hashed like a T, printed like a T (fmt/spdlog and std::ostream, so gtest
// shows it). It never converts implicitly, either way. Zero cost: it holds the T only, and every
// operation is inline.
//
//   ExecutionId id(NewUuid());
//   store->ReadExecution(PartitionId(2), id);  // ReadExecution(2, "...") does not compile
//   engine::PauseExecution{id.value()};         // engine messages keep std::string ids
//
// Thread-safety: values; the usual rules of T.
#include <spdlog/fmt/fmt.h>

#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <ostream>
#include <string>
#include <type_traits>
#include <utility>

namespace bora {

template <typename Tag, typename T>
class StrongId {
 public:
  using ValueType = T;

  // The empty id (T's default value: "" or 0).
  constexpr StrongId() = default;
  constexpr explicit StrongId(T value) noexcept(std::is_nothrow_move_constructible_v<T>)
      : value_(std::move(value)) {}

  constexpr const T& value() const& noexcept { return value_; }
  constexpr T&& value() && noexcept { return std::move(value_); }

  friend constexpr bool operator==(const StrongId&, const StrongId&) = default;
  friend constexpr auto operator<=>(const StrongId&, const StrongId&) = default;

  friend std::ostream& operator<<(std::ostream& os, const StrongId& id) { return os << id.value_; }

 private:
  T value_{};
};

// An execution (a workflow run): the key of its events on the bus and of its state in the store.
using ExecutionId = StrongId<struct ExecutionIdTag, std::string>;
// A task execution inside an execution.
using TaskExecutionId = StrongId<struct TaskExecutionIdTag, std::string>;
// An action execution inside a task execution.
using ActionExecutionId = StrongId<struct ActionExecutionIdTag, std::string>;
// A partition of `bora.events` and of the state store (PartitionForKey of an execution id).
using PartitionId = StrongId<struct PartitionIdTag, int>;
// A partition's fencing epoch: bumped by each claim; a commit under an older one is refused.
using Epoch = StrongId<struct EpochTag, uint64_t>;

}  // namespace bora

template <typename Tag, typename T>
struct std::hash<bora::StrongId<Tag, T>> {
  size_t operator()(const bora::StrongId<Tag, T>& id) const noexcept {
    return std::hash<T>()(id.value());
  }
};

template <typename Tag, typename T>
struct fmt::formatter<bora::StrongId<Tag, T>> : fmt::formatter<T> {
  template <typename FormatContext>
  auto format(const bora::StrongId<Tag, T>& id, FormatContext& ctx) const {
    return fmt::formatter<T>::format(id.value(), ctx);
  }
};
