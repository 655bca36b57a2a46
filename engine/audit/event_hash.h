// Recomputes an event's chain hash from its stored text columns (docs/audit.md, "Canonical
// encoding and hash chain"). The fast path splices the stored JSON texts of actor and body into
// the canonical object: the store writes them in exactly the canonical form (keys sorted, no
// whitespace, non-ASCII unescaped), so for an untouched row the spliced bytes are the canonical
// bytes. Only when that digest differs are actor and body parsed and re-encoded canonically (text
// that was re-formatted without changing its meaning still verifies); a mismatch after that is a
// changed event.
// Thread-safety: an EventHasher belongs to one thread.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "audit/audit_db.h"

namespace flowgate::audit {

using Digest = std::array<std::uint8_t, 32>;

// Lowercase hex of a digest; parsing refuses anything but 64 hex digits.
std::string to_hex(const Digest& d);
bool from_hex(std::string_view hex, Digest& out);

class EventHasher {
 public:
  EventHasher();
  ~EventHasher();
  EventHasher(const EventHasher&) = delete;
  EventHasher& operator=(const EventHasher&) = delete;

  // True when hex(SHA-256(row.prev_hash + "\n" + canonical(row))) == row.hash.
  bool matches(const EventRow& row);
  // The hash the row's content should have (slow path; for messages and exports).
  std::string expected_hex(const EventRow& row);
  // SHA-256 of raw bytes (the baseline of bench_verify uses the same primitive).
  Digest sha256(std::string_view bytes);

 private:
  Digest digest_of(std::string_view prev, std::string_view canonical);
  bool splice(const EventRow& row);  // builds buffer_; false when a string needs escaping
  bool canonical_slow(const EventRow& row, std::string& out);

  std::string buffer_;
};

}  // namespace flowgate::audit
