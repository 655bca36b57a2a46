#include "audit/event_hash.h"

// The SHA-256 functions of libcrypto (SHA256_Init/Update/Final) rather than EVP: EVP's per-digest
// provider dispatch cost a sixth of the time of hashing a ~450-byte event, and verify hashes
// millions. OpenSSL 3 marks them deprecated but keeps them, with the same CPU-specific code (SHA
// extensions, AVX2) as EVP's SHA-256.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#include <fmt/format.h>

#include "store/hash_chain.h"

namespace flowgate::audit {
namespace {

// A JSON string needs escaping when it holds '"', '\\' or a control character; bytes >= 0x80 are
// written as themselves (valid UTF-8 is checked by the slow path when the digest differs).
bool plain_string(std::string_view s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c == '"' || c == '\\' || c >= 0x80) return false;
  }
  return true;
}

}  // namespace

std::string to_hex(const Digest& d) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(64, '0');
  for (std::size_t i = 0; i < d.size(); ++i) {
    out[2 * i] = kHex[d[i] >> 4];
    out[2 * i + 1] = kHex[d[i] & 0x0f];
  }
  return out;
}

namespace {
// Lowercase hex digit values; 0xff for anything else.
constexpr std::array<std::uint8_t, 256> kNibble = [] {
  std::array<std::uint8_t, 256> t{};
  t.fill(0xff);
  for (int c = '0'; c <= '9'; ++c)
    t[static_cast<std::size_t>(c)] = static_cast<std::uint8_t>(c - '0');
  for (int c = 'a'; c <= 'f'; ++c)
    t[static_cast<std::size_t>(c)] = static_cast<std::uint8_t>(c - 'a' + 10);
  return t;
}();

// Compares a digest with 64 lowercase hex characters without decoding them.
bool equals_hex(const Digest& d, std::string_view hex) {
  static constexpr char kHex[] = "0123456789abcdef";
  if (hex.size() != 64) return false;
  for (std::size_t i = 0; i < 32; ++i) {
    if (hex[2 * i] != kHex[d[i] >> 4] || hex[2 * i + 1] != kHex[d[i] & 0x0f]) return false;
  }
  return true;
}
}  // namespace

bool from_hex(std::string_view hex, Digest& out) {
  if (hex.size() != 64) return false;
  std::uint8_t bad = 0;
  for (std::size_t i = 0; i < 32; ++i) {
    const std::uint8_t hi = kNibble[static_cast<unsigned char>(hex[2 * i])];
    const std::uint8_t lo = kNibble[static_cast<unsigned char>(hex[2 * i + 1])];
    bad |= static_cast<std::uint8_t>((hi | lo) & 0xf0);
    out[i] = static_cast<std::uint8_t>(hi << 4 | (lo & 0x0f));
  }
  return bad == 0;
}

EventHasher::EventHasher() { buffer_.reserve(4096); }

EventHasher::~EventHasher() = default;

Digest EventHasher::sha256(std::string_view bytes) {
  Digest d{};
  SHA256_CTX ctx;
  SHA256_Init(&ctx);
  SHA256_Update(&ctx, bytes.data(), bytes.size());
  SHA256_Final(d.data(), &ctx);
  return d;
}

Digest EventHasher::digest_of(std::string_view prev, std::string_view canonical) {
  Digest d{};
  SHA256_CTX ctx;
  SHA256_Init(&ctx);
  SHA256_Update(&ctx, prev.data(), prev.size());
  SHA256_Update(&ctx, "\n", 1);
  SHA256_Update(&ctx, canonical.data(), canonical.size());
  SHA256_Final(d.data(), &ctx);
  return d;
}

bool EventHasher::splice(const EventRow& row) {
  if (!plain_string(row.instance_id) || !plain_string(row.type)) return false;
  buffer_.clear();
  buffer_ += R"({"actor":)";
  buffer_ += row.actor;
  buffer_ += R"(,"at":)";
  const fmt::format_int at(row.at_ms);
  buffer_.append(at.data(), at.size());
  buffer_ += R"(,"body":)";
  buffer_ += row.body;
  buffer_ += R"(,"instance":")";
  buffer_ += row.instance_id;
  buffer_ += R"(","seq":)";
  const fmt::format_int seq(row.seq);
  buffer_.append(seq.data(), seq.size());
  buffer_ += R"(,"type":")";
  buffer_ += row.type;
  buffer_ += R"("})";
  return true;
}

bool EventHasher::canonical_slow(const EventRow& row, std::string& out) {
  EventRecord e;
  e.actor = nlohmann::json::parse(row.actor, nullptr, /*allow_exceptions=*/false);
  e.body = nlohmann::json::parse(row.body, nullptr, /*allow_exceptions=*/false);
  if (e.actor.is_discarded() || e.body.is_discarded()) return false;
  e.instance_id = std::string(row.instance_id);
  e.seq = row.seq;
  e.at_ms = row.at_ms;
  e.type = std::string(row.type);
  out = canonical_event_json(e);
  return true;
}

bool EventHasher::matches(const EventRow& row) {
  if (splice(row) && equals_hex(digest_of(row.prev_hash, buffer_), row.hash)) return true;
  std::string canonical;
  if (!canonical_slow(row, canonical)) return false;
  return equals_hex(digest_of(row.prev_hash, canonical), row.hash);
}

std::string EventHasher::expected_hex(const EventRow& row) {
  std::string canonical;
  if (!canonical_slow(row, canonical)) return "";
  return to_hex(digest_of(row.prev_hash, canonical));
}

}  // namespace flowgate::audit
