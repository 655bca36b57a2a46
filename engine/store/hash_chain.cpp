#include "store/hash_chain.h"

#include <array>
#include <memory>
#include <stdexcept>

#include <fmt/format.h>
#include <openssl/evp.h>

#include "store/json_text.h"

namespace flowgate {
namespace {

// OpenSSL 3 looks a digest up by name on every implicit EVP_sha256() use; fetch it once.
const EVP_MD* sha256_md() {
  static const EVP_MD* md = [] {
    const EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    return fetched != nullptr ? fetched : EVP_sha256();
  }();
  return md;
}

struct CtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
using CtxPtr = std::unique_ptr<EVP_MD_CTX, CtxDeleter>;

// A digest context per thread, reused: hashing is on the writer's hot path.
EVP_MD_CTX* thread_ctx() {
  thread_local CtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx) throw std::bad_alloc();
  return ctx.get();
}

void init(EVP_MD_CTX* ctx) {
  if (EVP_DigestInit_ex(ctx, sha256_md(), nullptr) != 1) {
    throw std::runtime_error("OpenSSL: SHA-256 is unavailable");
  }
}

void update(EVP_MD_CTX* ctx, std::string_view bytes) {
  if (!bytes.empty()) EVP_DigestUpdate(ctx, bytes.data(), bytes.size());
}

std::string finish_hex(EVP_MD_CTX* ctx) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx, md.data(), &len);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(static_cast<std::size_t>(len) * 2, '0');
  for (unsigned int i = 0; i < len; ++i) {
    out[2 * i] = kHex[md[i] >> 4];
    out[2 * i + 1] = kHex[md[i] & 0x0f];
  }
  return out;
}

// The canonical text of `e` in a per-thread buffer (valid until the next call on this thread).
// nlohmann's serializer with ensure_ascii=false escapes exactly what Python's json.dumps with
// ensure_ascii=False escapes (", \, \b \f \n \r \t, other U+0000..U+001F as lowercase \u00xx);
// invalid UTF-8 becomes U+FFFD, as in the stored text, so a hash recomputed from stored rows
// matches.
const std::string& canonical_text(const EventRecord& e) {
  thread_local store_internal::JsonText json;
  std::string& out = json.buffer();
  out.clear();
  // Keys in bytewise order: actor, at, body, instance, seq, type.
  out += R"({"actor":)";
  json.append(e.actor);
  out += R"(,"at":)";
  out += fmt::format_int(e.at_ms).c_str();
  out += R"(,"body":)";
  json.append(e.body);
  out += R"(,"instance":)";
  json.append(nlohmann::json(e.instance_id));
  out += R"(,"seq":)";
  out += fmt::format_int(e.seq).c_str();
  out += R"(,"type":)";
  json.append(nlohmann::json(e.type));
  out += '}';
  return out;
}

}  // namespace

std::string sha256_hex(std::string_view bytes) {
  EVP_MD_CTX* ctx = thread_ctx();
  init(ctx);
  update(ctx, bytes);
  return finish_hex(ctx);
}

std::string canonical_event_json(const EventRecord& e) { return canonical_text(e); }

std::string compute_event_hash(const std::string& prev_hash, const EventRecord& e) {
  const std::string& canonical = canonical_text(e);
  EVP_MD_CTX* ctx = thread_ctx();
  init(ctx);
  update(ctx, prev_hash);
  update(ctx, "\n");
  update(ctx, canonical);
  return finish_hex(ctx);
}

HeadsHasher::HeadsHasher() : ctx_(EVP_MD_CTX_new()) {
  if (ctx_ == nullptr) throw std::bad_alloc();
  init(static_cast<EVP_MD_CTX*>(ctx_));
}

HeadsHasher::~HeadsHasher() { EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_)); }

void HeadsHasher::add(std::string_view instance_id, std::int64_t last_seq,
                      std::string_view head_hash) {
  auto* ctx = static_cast<EVP_MD_CTX*>(ctx_);
  update(ctx, instance_id);
  update(ctx, " ");
  const fmt::format_int seq(last_seq);
  update(ctx, std::string_view(seq.data(), seq.size()));
  update(ctx, " ");
  update(ctx, head_hash);
  update(ctx, "\n");
}

std::string HeadsHasher::finish() {
  auto* ctx = static_cast<EVP_MD_CTX*>(ctx_);
  std::string hex = finish_hex(ctx);
  init(ctx);  // ready for a new sequence
  return hex;
}

}  // namespace flowgate
