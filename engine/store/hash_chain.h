// Tamper evidence (docs/audit.md is the normative description an auditor scripts against).
//
// Canonical encoding of an event: the JSON object
//   {"actor":…, "at":<at_ms>, "body":…, "instance":…, "seq":…, "type":…}
// serialized with keys sorted bytewise at every level, no insignificant whitespace, UTF-8 without
// escaping non-ASCII, integers only (decimals are strings in bodies) — Python's
// json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).
//   hash = hex(SHA-256(prev_hash + "\n" + canonical))     (prev_hash = "" for seq 1)
// A checkpoint hashes every chain head, instances ordered by id bytewise:
//   heads_hash = hex(SHA-256(concat over instances of  id + " " + last_seq + " " + head_hash +
//   "\n"))
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "store/records.h"

namespace flowgate {

std::string sha256_hex(std::string_view bytes);
std::string canonical_event_json(const EventRecord& e);
std::string compute_event_hash(const std::string& prev_hash, const EventRecord& e);

// Incremental heads hash: feed instances in id order.
class HeadsHasher {
 public:
  HeadsHasher();
  ~HeadsHasher();
  HeadsHasher(const HeadsHasher&) = delete;
  HeadsHasher& operator=(const HeadsHasher&) = delete;
  void add(std::string_view instance_id, std::int64_t last_seq, std::string_view head_hash);
  std::string finish();

 private:
  void* ctx_;  // EVP_MD_CTX*
};

}  // namespace flowgate
