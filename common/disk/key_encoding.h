#pragma once
// Fixed-width big-endian integers and length-prefixed strings for RocksDB keys and values, so that
// bytewise key order is numeric order (signed integers have their sign bit flipped). Shared by the
// disk bus journal and the disk stores.
#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

namespace bora::disk {

inline void PutU16(std::string& out, uint16_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v & 0xff));
}
inline void PutU32(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((v >> shift) & 0xff));
}
inline void PutU64(std::string& out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((v >> shift) & 0xff));
}
// Signed, with the sign bit flipped: big-endian byte order is then numeric order.
inline void PutI64(std::string& out, int64_t v) {
  PutU64(out, static_cast<uint64_t>(v) ^ (uint64_t{1} << 63));
}
// A string that more of a key follows: a 2-byte length, then the bytes (ids are far below 64 KiB;
// longer ones are cut, which only the order of keys sharing the cut prefix would notice).
inline void PutStr(std::string& out, std::string_view s) {
  const size_t n = std::min<size_t>(s.size(), 0xffff);
  PutU16(out, static_cast<uint16_t>(n));
  out.append(s.substr(0, n));
}

// Readers of the same at a position `at` the caller checked is in range.
inline uint64_t GetU64(std::string_view in, size_t at) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(in[at + i]);
  return v;
}
inline uint32_t GetU32(std::string_view in, size_t at) {
  uint32_t v = 0;
  for (size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(in[at + i]);
  return v;
}
inline uint16_t GetU16(std::string_view in, size_t at) {
  return static_cast<uint16_t>((static_cast<unsigned char>(in[at]) << 8) |
                               static_cast<unsigned char>(in[at + 1]));
}
inline int64_t GetI64(std::string_view in, size_t at) {
  return static_cast<int64_t>(GetU64(in, at) ^ (uint64_t{1} << 63));
}

}  // namespace bora::disk
