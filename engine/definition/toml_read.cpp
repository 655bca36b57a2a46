// Typed access to the parsed TOML document with diagnostics, and the loader's Context.
#include <algorithm>

#include <fmt/format.h>

#include "definition/loader_internal.h"

namespace flowgate::loader {

namespace {
// Enough for every honest misspelling in a large file; a hostile file stops getting suggestions.
constexpr std::size_t kSuggestBudget = 20'000'000;
// Words longer than this get no suggestion: edit distance is quadratic in length.
constexpr std::size_t kMaxSuggestWord = 80;

bool is_continuation(unsigned char c) { return (c & 0xC0) == 0x80; }
}  // namespace

Context::Context(std::string_view text, std::string file, Diagnostics& diags)
    : text_(text), file_(std::move(file)), diags_(diags), suggest_budget_(kSuggestBudget) {
  line_starts_.push_back(0);
  for (std::size_t i = text_.find('\n'); i != std::string_view::npos; i = text_.find('\n', i + 1)) {
    line_starts_.push_back(i + 1);
  }
}

SourceLocation Context::at(const toml::source_position& p) const {
  return {file_, static_cast<int>(p.line), static_cast<int>(p.column)};
}

SourceLocation Context::at_table(const toml::table& t, const SourceLocation& fallback) const {
  return t.source().begin ? at(t.source().begin) : fallback;
}

// Messages quote the file's own text (keys, ids, expressions): one line each, bounded in length,
// whatever the file holds.
constexpr std::size_t kMaxMessageChars = 400;

void Context::error(std::string_view rule, SourceLocation where, std::string message,
                    std::string hint) {
  diags_.error(std::string(rule), std::move(where), excerpt(message, kMaxMessageChars),
               excerpt(hint, kMaxMessageChars));
}

void Context::warning(std::string_view rule, SourceLocation where, std::string message,
                      std::string hint) {
  diags_.warning(std::string(rule), std::move(where), excerpt(message, kMaxMessageChars),
                 excerpt(hint, kMaxMessageChars));
}

std::string Context::did_you_mean(std::string_view word,
                                  const std::vector<std::string>& candidates) {
  if (word.empty() || word.size() > kMaxSuggestWord) return {};
  std::size_t cost = 0;
  for (const auto& c : candidates)
    cost += (word.size() + 1) * (std::min(c.size(), kMaxSuggestWord) + 1);
  if (cost > suggest_budget_) return {};
  suggest_budget_ -= cost;
  std::string match = closest_match(word, candidates);
  if (match.empty() || match == word) return {};
  return fmt::format("did you mean '{}'?", match);
}

std::size_t Context::offset_of(int line, int column) const {
  if (line < 1 || column < 1 || static_cast<std::size_t>(line) > line_starts_.size()) {
    return std::string_view::npos;
  }
  std::size_t pos = line_starts_[static_cast<std::size_t>(line) - 1];
  for (int c = 1; c < column; ++c) {
    if (pos >= text_.size() || text_[pos] == '\n') return std::string_view::npos;
    ++pos;
    while (pos < text_.size() && is_continuation(static_cast<unsigned char>(text_[pos]))) ++pos;
  }
  return pos <= text_.size() ? pos : std::string_view::npos;
}

std::string_view describe(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time of day";
    case toml::node_type::date_time:
      return "a date-time";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::table:
      return "a table";
    case toml::node_type::none:
      break;
  }
  return "nothing";
}

void check_keys(Context& cx, const toml::table& table,
                std::initializer_list<std::string_view> allowed, std::string_view owner) {
  std::vector<std::string> candidates(allowed.begin(), allowed.end());
  for (auto&& [key, value] : table) {
    if (std::find(allowed.begin(), allowed.end(), key.str()) != allowed.end()) continue;
    std::string hint = cx.did_you_mean(key.str(), candidates);
    if (hint.empty()) hint = fmt::format("allowed keys: {}", fmt::join(candidates, ", "));
    cx.error(rule::kKeyUnknown, cx.at(key), fmt::format("unknown key '{}' in {}", key.str(), owner),
             std::move(hint));
  }
}

void report_type(Context& cx, const toml::node& n, std::string_view key, std::string_view owner,
                 std::string_view expected, std::string hint) {
  cx.error(rule::kValueType, cx.at(n),
           fmt::format("'{}' in {} must be {}, found {}", key, owner, expected, describe(n)),
           std::move(hint));
}

namespace {
// The node under `key`, or null after reporting KEY-MISSING when it is required.
const toml::node* lookup(Context& cx, const toml::table& t, std::string_view key,
                         std::string_view owner, Need need, const SourceLocation& missing_at) {
  const toml::node* n = t.get(key);
  if (n == nullptr && need == Need::kRequired) {
    cx.error(rule::kKeyMissing, missing_at,
             fmt::format("{} is missing the required key '{}'", owner, key));
  }
  return n;
}
}  // namespace

namespace {
// The value at `key` when it has exactly the TOML type T; otherwise nullopt, after reporting.
template <typename T>
std::optional<T> read_exact(Context& cx, const toml::table& t, std::string_view key,
                            std::string_view owner, Need need, const SourceLocation& missing_at,
                            std::string_view expected) {
  const toml::node* n = lookup(cx, t, key, owner, need, missing_at);
  if (n == nullptr) return std::nullopt;
  if (auto v = n->value_exact<T>()) return v;
  report_type(cx, *n, key, owner, expected);
  return std::nullopt;
}
}  // namespace

std::optional<std::string> read_string(Context& cx, const toml::table& t, std::string_view key,
                                       std::string_view owner, Need need,
                                       const SourceLocation& missing_at) {
  return read_exact<std::string>(cx, t, key, owner, need, missing_at, "a string");
}

std::optional<std::int64_t> read_int(Context& cx, const toml::table& t, std::string_view key,
                                     std::string_view owner, Need need,
                                     const SourceLocation& missing_at) {
  return read_exact<std::int64_t>(cx, t, key, owner, need, missing_at, "an integer");
}

std::optional<bool> read_bool(Context& cx, const toml::table& t, std::string_view key,
                              std::string_view owner, Need need, const SourceLocation& missing_at) {
  return read_exact<bool>(cx, t, key, owner, need, missing_at, "a boolean (true or false)");
}

std::vector<std::pair<std::string, const toml::node*>> read_distinct_strings(
    Context& cx, const toml::array& list, std::string_view key, std::string_view owner,
    std::string_view noun) {
  std::vector<std::pair<std::string, const toml::node*>> out;
  for (const toml::node& item : list) {
    const auto* s = item.as_string();
    if (s == nullptr) {
      report_type(cx, item, key, owner, fmt::format("a list of {}s (strings)", noun));
      continue;
    }
    bool repeated = std::any_of(out.begin(), out.end(),
                                [&](const auto& seen) { return seen.first == s->get(); });
    if (repeated) {
      cx.error(rule::kIdDuplicate, cx.at(item),
               fmt::format("{} '{}' is listed twice in '{}' of {}", noun, s->get(), key, owner));
      continue;
    }
    out.emplace_back(s->get(), &item);
  }
  return out;
}

const toml::table* top_level_table(Context& cx, const toml::table& root, std::string_view key,
                                   std::string hint) {
  const toml::node* node = root.get(key);
  if (node == nullptr) return nullptr;
  if (const toml::table* t = node->as_table()) return t;
  report_type(cx, *node, key, "the file", "a table", std::move(hint));
  return nullptr;
}

std::string excerpt(std::string_view text, std::size_t max_chars) {
  std::string out;
  std::size_t chars = 0;
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    bool continuation = (byte & 0xC0) == 0x80;
    bool space = byte < 0x20 || byte == 0x7F || c == ' ';
    if (space && (out.empty() || out.back() == ' ')) continue;
    if (!continuation && chars++ == max_chars) {
      out += "...";
      return out;
    }
    out.push_back(space ? ' ' : c);
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

bool is_valid_id(std::string_view id, IdKind kind) {
  if (id.empty() || id.size() > kMaxIdLength) return false;
  auto lower = [](char c) { return c >= 'a' && c <= 'z'; };
  auto upper = [](char c) { return c >= 'A' && c <= 'Z'; };
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  char first = id.front();
  bool first_ok = kind == IdKind::kRole ? (lower(first) || upper(first)) : lower(first);
  if (!first_ok) return false;
  return std::all_of(id.begin() + 1, id.end(), [&](char c) {
    switch (kind) {
      case IdKind::kWorkflow:
        return lower(c) || digit(c) || c == '_' || c == '-';
      case IdKind::kRole:
        return lower(c) || upper(c) || digit(c) || c == '_' || c == '-';
      case IdKind::kName:
        return lower(c) || digit(c) || c == '_';
    }
    return false;
  });
}

bool check_id(Context& cx, std::string_view id, IdKind kind, std::string_view what,
              const SourceLocation& where) {
  if (is_valid_id(id, kind)) return true;
  std::string_view pattern = kind == IdKind::kWorkflow ? "^[a-z][a-z0-9_-]*$"
                             : kind == IdKind::kRole   ? "^[A-Za-z][A-Za-z0-9_-]*$"
                                                       : "^[a-z][a-z0-9_]*$";
  cx.error(rule::kIdInvalid, where, fmt::format("invalid {} '{}'", what, excerpt(id, kMaxIdLength)),
           fmt::format("{}s match {} and have at most {} characters", what, pattern, kMaxIdLength));
  return false;
}

}  // namespace flowgate::loader
