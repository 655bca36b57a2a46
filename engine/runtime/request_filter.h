// A set of request ids that answers "certainly not seen" without a database read: a Bloom filter
// that grows in layers (each twice the capacity of the one before), so it needs no rebuild as
// ids are added. `may_contain` is never false for an added id; for an id never added it is true
// at a rate of about 0.06% per full layer (16 bits and 8 probes per id), which only costs the
// caller the lookup it would have made anyway.
//
// The engine's writer keeps one over every request id in the store (engine.cpp): a command with a
// new request id then skips the idempotency lookup in SQLite. Memory: about 4 bytes per id.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace flowgate {

class RequestIdFilter {
 public:
  explicit RequestIdFilter(std::size_t first_capacity = std::size_t{1} << 16);

  void add(std::string_view id);
  bool may_contain(std::string_view id) const;

  std::size_t size() const;  // ids added (repeats count again)
  std::size_t memory_bytes() const;
  std::size_t layers() const { return layers_.size(); }

 private:
  struct Layer {
    std::vector<std::uint64_t> words;
    std::uint64_t mask = 0;  // bit count - 1 (a power of two)
    std::size_t capacity = 0;
    std::size_t count = 0;
  };
  static constexpr int kProbes = 8;
  static constexpr std::size_t kBitsPerId = 16;

  static Layer make_layer(std::size_t capacity);
  std::vector<Layer> layers_;
};

}  // namespace flowgate
