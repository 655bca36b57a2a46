#include "audit/event_body.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "definition/value.h"
#include "runtime/command.h"
#include "runtime/lifecycle.h"

namespace flowgate::audit {
namespace {

using nlohmann::json;

// How much of a member to build: all of it, nothing (skipped, but checked), only the "to" of an
// object, or an object of such objects (`changes`: field -> {"to": ...}).
enum class Keep { kAll, kNone, kTo, kChanges };

// The length of the UTF-8 sequence at `p` (1..4), or 0 when it is not valid UTF-8 (overlong,
// surrogate, beyond U+10FFFF, truncated) — nlohmann refuses such text, so this parser must too.
std::size_t utf8_length(const unsigned char* p, const unsigned char* end) {
  const unsigned c = p[0];
  std::size_t n = 0;
  unsigned min = 0;
  unsigned cp = 0;
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2, min = 0x80, cp = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3, min = 0x800, cp = c & 0x0F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4, min = 0x10000, cp = c & 0x07;
  } else {
    return 0;
  }
  if (static_cast<std::size_t>(end - p) < n) return 0;
  for (std::size_t i = 1; i < n; ++i) {
    if ((p[i] & 0xC0) != 0x80) return 0;
    cp = cp << 6 | (p[i] & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

class Reader {
 public:
  explicit Reader(std::string_view text) : p_(text.data()), end_(text.data() + text.size()) {}

  void ws() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) ++p_;
  }
  bool at_end() {
    ws();
    return p_ == end_;
  }
  bool eat(char c) {
    ws();
    if (p_ < end_ && *p_ == c) {
      ++p_;
      return true;
    }
    return false;
  }
  bool peek(char c) {
    ws();
    return p_ < end_ && *p_ == c;
  }

  bool string(std::string& out) {
    if (!eat('"')) return false;
    out.clear();
    const char* start = p_;
    while (p_ < end_) {
      skip_plain();
      if (p_ >= end_) break;
      char c = *p_;
      if (c == '"') {
        out.append(start, p_);
        ++p_;
        return true;
      }
      if (static_cast<unsigned char>(c) < 0x20) return false;
      if (c == '\\') {
        out.append(start, p_);
        if (!escape(out)) return false;
        start = p_;
        continue;
      }
      if (!advance_char()) return false;
    }
    return false;
  }

  // A string as a view of the text when it has no escapes (keys, states: the common case), else
  // decoded into `scratch` (and viewed there).
  bool text(std::string_view& out, std::string& scratch) {
    ws();
    if (p_ >= end_ || *p_ != '"') return false;
    const char* open = p_++;
    while (p_ < end_) {
      skip_plain();
      if (p_ >= end_) break;
      const char c = *p_;
      if (c == '"') {
        out = std::string_view(open + 1, static_cast<std::size_t>(p_ - open - 1));
        ++p_;
        return true;
      }
      if (c == '\\') {
        p_ = open;
        if (!string(scratch)) return false;
        out = scratch;
        return true;
      }
      if (static_cast<unsigned char>(c) < 0x20 || !advance_char()) return false;
    }
    return false;
  }

  bool skip_string() {
    if (!eat('"')) return false;
    std::string ignored;
    while (p_ < end_) {
      skip_plain();
      if (p_ >= end_) break;
      char c = *p_;
      if (c == '"') {
        ++p_;
        return true;
      }
      if (static_cast<unsigned char>(c) < 0x20) return false;
      if (c == '\\') {
        if (!escape(ignored)) return false;
        continue;
      }
      if (!advance_char()) return false;
    }
    return false;
  }

  bool value(json& out) {
    ws();
    if (p_ >= end_) return false;
    switch (*p_) {
      case '{':
        return object(out, Keep::kAll);
      case '[': {
        ++p_;
        out = json::array();
        if (eat(']')) return true;
        do {
          json v;
          if (!value(v)) return false;
          out.get_ref<json::array_t&>().push_back(std::move(v));
        } while (eat(','));
        return eat(']');
      }
      case '"': {
        std::string s;
        if (!string(s)) return false;
        out = std::move(s);
        return true;
      }
      default:
        return scalar(&out);
    }
  }

  bool skip_value() {
    ws();
    if (p_ >= end_) return false;
    switch (*p_) {
      case '{': {
        ++p_;
        if (eat('}')) return true;
        do {
          if (!skip_string() || !eat(':') || !skip_value()) return false;
        } while (eat(','));
        return eat('}');
      }
      case '[': {
        ++p_;
        if (eat(']')) return true;
        do {
          if (!skip_value()) return false;
        } while (eat(','));
        return eat(']');
      }
      case '"':
        return skip_string();
      default:
        return scalar(nullptr);
    }
  }

  // An object, keeping the members `keep_member` accepts (keep mode per member).
  using KeepFn = Keep (*)(const std::string& key);
  bool object_with(json& out, KeepFn keep_member) {
    if (!eat('{')) return false;
    out = json::object();
    if (eat('}')) return true;
    std::string key;
    do {
      if (!string(key) || !eat(':')) return false;
      Keep k = keep_member(key);
      if (k == Keep::kNone) {
        if (!skip_value()) return false;
        continue;
      }
      json v;
      bool ok = k == Keep::kAll  ? value(v)
                : k == Keep::kTo ? object(v, Keep::kTo)
                                 : object_with(v, [](const std::string&) { return Keep::kTo; });
      if (!ok) return false;
      out[key] = std::move(v);
    } while (eat(','));
    return eat('}');
  }

  bool object(json& out, Keep mode) {
    if (mode == Keep::kTo) {
      return object_with(out,
                         [](const std::string& k) { return k == "to" ? Keep::kAll : Keep::kNone; });
    }
    return object_with(out, [](const std::string&) { return Keep::kAll; });
  }

 private:
  // Past the plain characters at p_ inside a string: up to the next '"', '\\', control character
  // or non-ASCII byte (which the caller looks at one by one), 16 bytes at a time where it can.
  void skip_plain() {
#if defined(__SSE2__)
    const __m128i quote = _mm_set1_epi8('"');
    const __m128i backslash = _mm_set1_epi8('\\');
    const __m128i space = _mm_set1_epi8(0x20);
    while (end_ - p_ >= 16) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p_));
      // Signed: bytes >= 0x80 are negative, so "< 0x20" also catches non-ASCII.
      const __m128i special =
          _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)),
                       _mm_cmplt_epi8(v, space));
      const auto mask = static_cast<unsigned>(_mm_movemask_epi8(special));
      if (mask != 0) {
        p_ += __builtin_ctz(mask);
        return;
      }
      p_ += 16;
    }
#endif
    while (p_ < end_) {
      const auto c = static_cast<unsigned char>(*p_);
      if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\') return;
      ++p_;
    }
  }

  // Past one (valid UTF-8) character of a string.
  bool advance_char() {
    if (static_cast<unsigned char>(*p_) < 0x80) {
      ++p_;
      return true;
    }
    std::size_t n = utf8_length(reinterpret_cast<const unsigned char*>(p_),
                                reinterpret_cast<const unsigned char*>(end_));
    p_ += n;
    return n > 0;
  }

  static int hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  bool hex4(unsigned& out) {
    if (end_ - p_ < 4) return false;
    out = 0;
    for (int i = 0; i < 4; ++i) {
      int h = hex(p_[i]);
      if (h < 0) return false;
      out = out << 4 | static_cast<unsigned>(h);
    }
    p_ += 4;
    return true;
  }

  // At a backslash: appends the decoded character.
  bool escape(std::string& out) {
    ++p_;
    if (p_ >= end_) return false;
    char c = *p_++;
    switch (c) {
      case '"':
        out += '"';
        return true;
      case '\\':
        out += '\\';
        return true;
      case '/':
        out += '/';
        return true;
      case 'b':
        out += '\b';
        return true;
      case 'f':
        out += '\f';
        return true;
      case 'n':
        out += '\n';
        return true;
      case 'r':
        out += '\r';
        return true;
      case 't':
        out += '\t';
        return true;
      case 'u':
        break;
      default:
        return false;
    }
    unsigned cp = 0;
    if (!hex4(cp)) return false;
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      unsigned lo = 0;
      if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') return false;
      p_ += 2;
      if (!hex4(lo) || lo < 0xDC00 || lo > 0xDFFF) return false;
      cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
    } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
      return false;
    }
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | cp >> 6);
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | cp >> 12);
      out += static_cast<char>(0x80 | (cp >> 6 & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | cp >> 18);
      out += static_cast<char>(0x80 | (cp >> 12 & 0x3F));
      out += static_cast<char>(0x80 | (cp >> 6 & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
    return true;
  }

  bool literal(std::string_view word) {
    if (static_cast<std::size_t>(end_ - p_) < word.size() ||
        std::string_view(p_, word.size()) != word) {
      return false;
    }
    p_ += word.size();
    return true;
  }

  // true/false/null or an integer (as nlohmann parses it: unsigned when not negative). Anything
  // else, floating-point numbers included, is left to the full parser.
  bool scalar(json* out) {
    if (*p_ == 't') {
      if (!literal("true")) return false;
      if (out) *out = true;
      return true;
    }
    if (*p_ == 'f') {
      if (!literal("false")) return false;
      if (out) *out = false;
      return true;
    }
    if (*p_ == 'n') {
      if (!literal("null")) return false;
      if (out) *out = nullptr;
      return true;
    }
    bool negative = false;
    if (*p_ == '-') {
      negative = true;
      ++p_;
    }
    if (p_ >= end_ || *p_ < '0' || *p_ > '9') return false;
    if (*p_ == '0' && p_ + 1 < end_ && p_[1] >= '0' && p_[1] <= '9') return false;
    std::uint64_t v = 0;
    while (p_ < end_ && *p_ >= '0' && *p_ <= '9') {
      auto d = static_cast<std::uint64_t>(*p_ - '0');
      if (v > (std::numeric_limits<std::uint64_t>::max() - d) / 10) return false;
      v = v * 10 + d;
      ++p_;
    }
    if (p_ < end_ && (*p_ == '.' || *p_ == 'e' || *p_ == 'E')) return false;
    if (negative) {
      if (v > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) + 1)
        return false;
      if (out) *out = static_cast<json::number_integer_t>(0 - v);
    } else if (out) {
      *out = static_cast<json::number_unsigned_t>(v);
    }
    return true;
  }

  const char* p_;
  const char* end_;
};

// A change read from text: the field's slot and its new value.
struct TextChange {
  std::size_t index;
  Value value;
};

// Reads `changes` ({field: {..., "to": value}}) into `out`; false on anything apply() might treat
// differently.
// The slot of data field `name`: a workflow has few fields, so comparing names beats hashing one.
std::optional<std::size_t> field_slot(const Workflow& wf, std::string_view name) {
  constexpr std::size_t kLinear = 16;
  if (wf.fields.size() > kLinear) return wf.field_index(name);
  for (std::size_t i = 0; i < wf.fields.size(); ++i) {
    if (wf.fields[i].name == name) return i;
  }
  return std::nullopt;
}

bool read_changes(Reader& r, const Workflow& wf, std::vector<TextChange>& out) {
  if (!r.eat('{')) return false;
  if (r.eat('}')) return true;
  std::string scratch;
  std::string_view key;
  std::string_view member;
  do {
    if (!r.text(key, scratch) || !r.eat(':') || !r.eat('{')) return false;
    auto idx = field_slot(wf, key);
    if (!idx) return false;
    json to;
    bool have_to = false;
    if (!r.eat('}')) {
      do {
        if (!r.text(member, scratch) || !r.eat(':')) return false;
        if (member == "to") {
          to = json();
          if (!r.value(to)) return false;
          have_to = true;
        } else if (!r.skip_value()) {
          return false;
        }
      } while (r.eat(','));
      if (!r.eat('}')) return false;
    }
    if (!have_to) return false;
    Value v;
    if (!to.is_null()) {
      auto parsed = Value::from_json(to, wf.fields[*idx].type);
      if (!parsed) return false;
      v = std::move(*parsed);
    }
    out.push_back({*idx, std::move(v)});
  } while (r.eat(','));
  return r.eat('}');
}

bool fast_parse(std::string_view type, std::string_view body, json& out) {
  Reader r(body);
  bool ok = false;
  if (type == events::kInstanceStarted) {
    ok = r.peek('{') && r.value(out);
  } else if (type == events::kTransitioned) {
    ok = r.object_with(out, [](const std::string& k) {
      return k == "to" ? Keep::kAll : k == "changes" ? Keep::kChanges : Keep::kNone;
    });
  } else if (type == events::kDataChanged) {
    ok = r.object_with(
        out, [](const std::string& k) { return k == "changes" ? Keep::kChanges : Keep::kNone; });
  } else if (type == events::kMigrated) {
    ok = r.object_with(out, [](const std::string& k) {
      return k == "to_version" || k == "definition_hash" || k == "to_state" || k == "data"
                 ? Keep::kAll
                 : Keep::kNone;
    });
  } else if (type == events::kSuspended || type == events::kResumed || type == events::kCancelled ||
             type == events::kCompleted) {
    ok = r.object_with(out, [](const std::string&) { return Keep::kNone; });
  } else {
    return false;
  }
  return ok && r.at_end();
}

}  // namespace

bool apply_from_text(InstanceState& s, std::string_view type, std::string_view body,
                     const Workflow& wf, std::int64_t at_ms) {
  LifecycleEvent step;
  const bool transitioned = type == events::kTransitioned;
  const bool data_changed = type == events::kDataChanged;
  if (transitioned || data_changed) {
    step = LifecycleEvent::kWork;
  } else if (type == events::kCompleted) {
    step = LifecycleEvent::kComplete;
  } else if (type == events::kSuspended) {
    step = LifecycleEvent::kSuspend;
  } else if (type == events::kResumed) {
    step = LifecycleEvent::kResume;
  } else if (type == events::kCancelled) {
    step = LifecycleEvent::kCancel;
  } else {
    return false;
  }
  thread_local std::vector<TextChange> changes;
  changes.clear();
  std::string to;
  bool have_to = false;
  bool have_changes = false;
  Reader r(body);
  if (!r.eat('{')) return false;
  std::string scratch;
  std::string_view key;
  if (!r.eat('}')) {
    do {
      if (!r.text(key, scratch) || !r.eat(':')) return false;
      if ((transitioned || data_changed) && key == "changes") {
        if (have_changes || !read_changes(r, wf, changes)) return false;
        have_changes = true;
      } else if (transitioned && key == "to") {
        if (have_to || !r.string(to)) return false;
        have_to = true;
      } else if (!r.skip_value()) {
        return false;
      }
    } while (r.eat(','));
    if (!r.eat('}')) return false;
  }
  if (!r.at_end()) return false;
  if ((transitioned && (!have_to || !have_changes)) || (data_changed && !have_changes)) {
    return false;
  }
  auto next = lifecycle_step(s.lifecycle, step);
  if (!next) return false;
  s.lifecycle = *next;
  for (auto& c : changes) s.data[c.index] = std::move(c.value);
  if (transitioned) s.state = std::move(to);
  ++s.last_seq;
  s.updated_ms = at_ms;
  return true;
}

bool parse_body_for_apply(std::string_view type, std::string_view body, json& out) {
  if (fast_parse(type, body, out)) return true;
  out = json::parse(body, nullptr, /*allow_exceptions=*/false);
  return !out.is_discarded() && out.is_object();
}

}  // namespace flowgate::audit
