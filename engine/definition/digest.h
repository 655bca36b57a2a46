// SHA-256 helpers for content hashes (a process file's content_hash) and for any module above
// definition that needs the same digest (store/ may call these instead of linking its own).
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

namespace flowgate::digest {

// Lowercase hex SHA-256 of `bytes` (64 characters).
std::string sha256_hex(std::string_view bytes);

}  // namespace flowgate::digest
