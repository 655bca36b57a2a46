#include "runtime/request_filter.h"

#include <algorithm>
#include <bit>
#include <functional>

namespace flowgate {

namespace {

// Two hashes from one (Kirsch and Mitzenmacher: probe i is h1 + i·h2).
struct Hashes {
  std::uint64_t h1;
  std::uint64_t h2;
};

Hashes hashes(std::string_view id) {
  std::uint64_t h = std::hash<std::string_view>{}(id);
  std::uint64_t m = h + 0x9e3779b97f4a7c15ULL;  // splitmix64's finalizer
  m = (m ^ (m >> 30)) * 0xbf58476d1ce4e5b9ULL;
  m = (m ^ (m >> 27)) * 0x94d049bb133111ebULL;
  m ^= m >> 31;
  return {h, m | 1};
}

// Probe i's bit in a layer of mask + 1 bits.
std::uint64_t probe(const Hashes& h, int i, std::uint64_t mask) {
  return (h.h1 + static_cast<std::uint64_t>(i) * h.h2) & mask;
}

}  // namespace

RequestIdFilter::RequestIdFilter(std::size_t first_capacity) {
  layers_.push_back(make_layer(std::bit_ceil(std::max<std::size_t>(first_capacity, 64))));
}

RequestIdFilter::Layer RequestIdFilter::make_layer(std::size_t capacity) {
  Layer l;
  l.capacity = capacity;
  std::size_t bits = capacity * kBitsPerId;  // a power of two, since capacity is
  l.words.assign(bits / 64, 0);
  l.mask = bits - 1;
  return l;
}

void RequestIdFilter::add(std::string_view id) {
  if (layers_.back().count >= layers_.back().capacity) {
    layers_.push_back(make_layer(layers_.back().capacity * 2));
  }
  Layer& l = layers_.back();
  const Hashes h = hashes(id);
  for (int i = 0; i < kProbes; ++i) {
    std::uint64_t bit = probe(h, i, l.mask);
    l.words[bit >> 6] |= std::uint64_t{1} << (bit & 63);
  }
  ++l.count;
}

bool RequestIdFilter::may_contain(std::string_view id) const {
  const Hashes h = hashes(id);
  for (const Layer& l : layers_) {
    bool all = true;
    for (int i = 0; i < kProbes && all; ++i) {
      std::uint64_t bit = probe(h, i, l.mask);
      all = (l.words[bit >> 6] >> (bit & 63)) & 1;
    }
    if (all) return true;
  }
  return false;
}

std::size_t RequestIdFilter::size() const {
  std::size_t n = 0;
  for (const Layer& l : layers_) n += l.count;
  return n;
}

std::size_t RequestIdFilter::memory_bytes() const {
  std::size_t bytes = 0;
  for (const Layer& l : layers_) bytes += l.words.size() * sizeof(std::uint64_t);
  return bytes;
}

}  // namespace flowgate
