// Internal to audit/: a hash map keyed by std::string that looks up by std::string_view (event
// rows hold views into SQLite's buffers), without building a string per lookup.
// Thread-safety: as std::unordered_map.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace flowgate::audit {

struct StringViewHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

template <typename V>
using StringMap = std::unordered_map<std::string, V, StringViewHash, std::equal_to<>>;

}  // namespace flowgate::audit
