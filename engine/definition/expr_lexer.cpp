// Lexer of the expression language. Literals are decoded here (via the value.h text parsers), so a
// bad date, duration or number is reported at its own column.
#include <fmt/format.h>

#include "definition/expr_syntax.h"

namespace flowgate::expr {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_word(char c) { return is_alpha(c) || is_digit(c); }

// Length of the well-formed UTF-8 sequence at `s[i]` (RFC 3629: no overlong forms, surrogates or
// code points above U+10FFFF), or 0 if there is none. Messages and values must be valid UTF-8
// because they end up in JSON.
std::size_t utf8_length(std::string_view s, std::size_t i) {
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
  unsigned char b = byte(0);
  if (b < 0x80) return 1;
  std::size_t n = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (b >= 0xC2 && b <= 0xDF) {
    n = 2;
  } else if (b >= 0xE0 && b <= 0xEF) {
    n = 3;
    if (b == 0xE0) lo = 0xA0;
    if (b == 0xED) hi = 0x9F;
  } else if (b >= 0xF0 && b <= 0xF4) {
    n = 4;
    if (b == 0xF0) lo = 0x90;
    if (b == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + n > s.size() || byte(1) < lo || byte(1) > hi) return 0;
  for (std::size_t k = 2; k < n; ++k) {
    if ((byte(k) & 0xC0) != 0x80) return 0;
  }
  return n;
}

class Lexer {
 public:
  explicit Lexer(std::string_view src) : src_(src) {}

  Result<std::vector<Token>> run() {
    std::vector<Token> out;
    while (true) {
      while (pos_ < src_.size() && (src_[pos_] == ' ' || src_[pos_] == '\t' || src_[pos_] == '\n' ||
                                    src_[pos_] == '\r')) {
        ++pos_;
      }
      if (pos_ >= src_.size()) break;
      auto t = next();
      if (!t) return fail(std::move(t.error()));
      out.push_back(std::move(*t));
    }
    out.push_back(Token{Tok::kEnd, static_cast<std::uint32_t>(src_.size()), 0, {}});
    return out;
  }

 private:
  Token make(Tok kind, std::size_t start, Value v = {}) {
    return Token{kind, static_cast<std::uint32_t>(start), static_cast<std::uint32_t>(pos_ - start),
                 std::move(v)};
  }
  std::unexpected<Error> error_at(std::size_t offset, std::string msg, std::string hint = {}) {
    return fail(
        compile_error(src_, static_cast<std::uint32_t>(offset), std::move(msg), std::move(hint)));
  }
  bool at(std::size_t i, char c) const { return i < src_.size() && src_[i] == c; }
  bool digit_at(std::size_t i) const { return i < src_.size() && is_digit(src_[i]); }

  Result<Token> next() {
    std::size_t start = pos_;
    char c = src_[pos_];
    if (is_digit(c)) return number();
    if (c == '"' || c == '\'') return string();
    if (is_alpha(c)) return word();
    auto op = [&](Tok kind, std::size_t len) {
      pos_ += len;
      return make(kind, start);
    };
    char n = pos_ + 1 < src_.size() ? src_[pos_ + 1] : '\0';
    switch (c) {
      case '(':
        return op(Tok::kLParen, 1);
      case ')':
        return op(Tok::kRParen, 1);
      case '[':
        return op(Tok::kLBracket, 1);
      case ']':
        return op(Tok::kRBracket, 1);
      case ',':
        return op(Tok::kComma, 1);
      case '.':
        return op(Tok::kDot, 1);
      case '+':
        return op(Tok::kPlus, 1);
      case '-':
        return op(Tok::kMinus, 1);
      case '*':
        return op(Tok::kStar, 1);
      case '/':
        return op(Tok::kSlash, 1);
      case '%':
        return op(Tok::kPercent, 1);
      case '<':
        return n == '=' ? op(Tok::kLe, 2) : op(Tok::kLt, 1);
      case '>':
        return n == '=' ? op(Tok::kGe, 2) : op(Tok::kGt, 1);
      case '=':
        if (n == '=') return op(Tok::kEq, 2);
        return error_at(start, "unexpected `=`", "compare with `==`");
      case '!':
        if (n == '=') return op(Tok::kNe, 2);
        return error_at(start, "unexpected `!`", "negate with `not`");
      case '&':
        return error_at(start, fmt::format("unexpected `{}`", n == '&' ? "&&" : "&"),
                        "combine conditions with `and`");
      case '|':
        return error_at(start, fmt::format("unexpected `{}`", n == '|' ? "||" : "|"),
                        "combine conditions with `or`");
      default:
        break;
    }
    std::size_t len = utf8_length(src_, pos_);
    return error_at(start, fmt::format("unexpected character `{}`",
                                       printable(src_.substr(pos_, len == 0 ? 1 : len))));
  }

  Result<Token> word() {
    std::size_t start = pos_;
    while (pos_ < src_.size() && is_word(src_[pos_])) ++pos_;
    std::string_view w = src_.substr(start, pos_ - start);
    Tok kind = w == "and"     ? Tok::kAnd
               : w == "or"    ? Tok::kOr
               : w == "not"   ? Tok::kNot
               : w == "in"    ? Tok::kIn
               : w == "true"  ? Tok::kTrue
               : w == "false" ? Tok::kFalse
               : w == "null"  ? Tok::kNull
                              : Tok::kIdent;
    return make(kind, start);
  }

  Result<Token> string() {
    std::size_t start = pos_;
    char quote = src_[pos_++];
    std::string text;
    while (true) {
      if (pos_ >= src_.size() || src_[pos_] == '\n') {
        return error_at(start, "unterminated string", fmt::format("close it with {}", quote));
      }
      char c = src_[pos_];
      if (c == quote) {
        ++pos_;
        break;
      }
      if (c == '\\') {
        char e = pos_ + 1 < src_.size() ? src_[pos_ + 1] : '\0';
        switch (e) {
          case '"':
            text += '"';
            break;
          case '\'':
            text += '\'';
            break;
          case '\\':
            text += '\\';
            break;
          case 'n':
            text += '\n';
            break;
          default: {
            if (e == '\0' && pos_ + 1 >= src_.size()) {
              return error_at(start, "unterminated string", fmt::format("close it with {}", quote));
            }
            std::size_t len = utf8_length(src_, pos_ + 1);
            return error_at(pos_,
                            fmt::format("unknown escape `\\{}` in string",
                                        printable(src_.substr(pos_ + 1, len == 0 ? 1 : len))),
                            "the escapes are \\\" \\' \\\\ and \\n");
          }
        }
        pos_ += 2;
        continue;
      }
      std::size_t len = utf8_length(src_, pos_);
      if (len == 0) {
        return error_at(
            pos_, "string is not valid UTF-8",
            fmt::format("byte \\x{:02x} starts no UTF-8 character", static_cast<unsigned char>(c)));
      }
      text.append(src_.substr(pos_, len));
      pos_ += len;
    }
    return make(Tok::kLiteral, start, Value::string(std::move(text)));
  }

  Result<Token> number() {
    std::size_t start = pos_;
    while (digit_at(pos_)) ++pos_;
    // 2026-03-01 and 2026-03-01T09:00:00Z: exactly four digits, then -dd-dd.
    if (pos_ - start == 4 && at(pos_, '-') && digit_at(pos_ + 1) && digit_at(pos_ + 2) &&
        at(pos_ + 3, '-') && digit_at(pos_ + 4) && digit_at(pos_ + 5)) {
      pos_ += 6;
      if ((at(pos_, 'T') || at(pos_, 't')) && digit_at(pos_ + 1)) return datetime(start);
      std::string_view text = src_.substr(start, pos_ - start);
      if (pos_ < src_.size() && is_word(src_[pos_])) return bad_word(start, "date");
      auto days = parse_date_days(text);
      if (!days)
        return error_at(start, fmt::format("invalid date `{}`", text),
                        "no such day in the calendar");
      return make(Tok::kLiteral, start, Value::date(*days));
    }
    if (at(pos_, '.') && digit_at(pos_ + 1)) {
      ++pos_;
      while (digit_at(pos_)) ++pos_;
      if (pos_ < src_.size() && is_word(src_[pos_])) {
        while (pos_ < src_.size() && is_word(src_[pos_])) ++pos_;
        return error_at(start, fmt::format("invalid number `{}`", src_.substr(start, pos_ - start)),
                        "a duration takes whole numbers of each unit, e.g. 1h30m");
      }
      std::string_view text = src_.substr(start, pos_ - start);
      auto units = parse_decimal_units(text);
      if (!units) {
        return error_at(
            start, fmt::format("invalid decimal `{}`", printable(text)),
            "decimals have at most 6 fractional digits and fit in ±9223372036854.775807");
      }
      return make(Tok::kLiteral, start, Value::decimal_units(*units));
    }
    if (pos_ < src_.size() && is_alpha(src_[pos_])) {
      while (pos_ < src_.size() && is_word(src_[pos_])) ++pos_;
      std::string_view text = src_.substr(start, pos_ - start);
      auto ms = parse_duration_ms(text);
      if (!ms) {
        return error_at(start, fmt::format("invalid duration `{}`", printable(text)),
                        "use the units w d h m s ms, largest first, e.g. 1d2h30m");
      }
      return make(Tok::kLiteral, start, Value::duration(*ms));
    }
    std::string_view text = src_.substr(start, pos_ - start);
    std::int64_t v = 0;
    for (char c : text) {
      if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, c - '0', &v)) {
        return error_at(start, fmt::format("integer `{}` is too large", printable(text)),
                        "integers are 64-bit: at most 9223372036854775807");
      }
    }
    return make(Tok::kLiteral, start, Value::integer(v));
  }

  // A date followed by 'T': the time, fraction and zone are scanned by shape so that a following
  // `- 4h` stays an operator, then the whole text is checked by parse_datetime_ms.
  Result<Token> datetime(std::size_t start) {
    ++pos_;  // 'T'
    while (pos_ < src_.size() && (is_digit(src_[pos_]) || src_[pos_] == ':' || src_[pos_] == '.'))
      ++pos_;
    if (at(pos_, 'Z') || at(pos_, 'z')) {
      ++pos_;
    } else if ((at(pos_, '+') || at(pos_, '-')) && digit_at(pos_ + 1) && digit_at(pos_ + 2) &&
               at(pos_ + 3, ':') && digit_at(pos_ + 4) && digit_at(pos_ + 5)) {
      pos_ += 6;
    } else {
      return error_at(
          start, fmt::format("datetime `{}` has no time zone", src_.substr(start, pos_ - start)),
          "end it with Z (UTC) or an offset such as +01:00");
    }
    if (pos_ < src_.size() && is_word(src_[pos_])) return bad_word(start, "datetime");
    std::string_view text = src_.substr(start, pos_ - start);
    auto ms = parse_datetime_ms(text);
    if (!ms) {
      return error_at(start, fmt::format("invalid datetime `{}`", text),
                      "write RFC 3339 in the years 0000-9999, e.g. 2026-03-01T09:00:00Z");
    }
    return make(Tok::kLiteral, start, Value::datetime(*ms));
  }

  std::unexpected<Error> bad_word(std::size_t start, std::string_view what) {
    while (pos_ < src_.size() && is_word(src_[pos_])) ++pos_;
    return error_at(
        start, fmt::format("invalid {} `{}`", what, printable(src_.substr(start, pos_ - start))));
  }

  std::string_view src_;
  std::size_t pos_ = 0;
};

}  // namespace

Result<std::vector<Token>> lex(std::string_view source) { return Lexer(source).run(); }

SourceLocation locate(std::string_view source, std::uint32_t offset) {
  SourceLocation loc;
  loc.line = 1;
  loc.column = 1;
  std::size_t end = std::min<std::size_t>(offset, source.size());
  for (std::size_t i = 0; i < end; ++i) {
    if (source[i] == '\n') {
      ++loc.line;
      loc.column = 1;
    } else if ((static_cast<unsigned char>(source[i]) & 0xC0) != 0x80) {
      ++loc.column;  // continuation bytes do not start a column
    }
  }
  return loc;
}

Error compile_error(std::string_view source, std::uint32_t offset, std::string message,
                    std::string hint) {
  Error e(ErrorCode::kInvalidDefinition, std::move(message));
  e.hint = std::move(hint);
  e.location = locate(source, offset);
  return e;
}

std::string printable(std::string_view text, std::size_t max_chars) {
  std::string out;
  std::size_t chars = 0;
  for (std::size_t i = 0; i < text.size();) {
    if (chars++ == max_chars) {
      out += "…";
      break;
    }
    auto b = static_cast<unsigned char>(text[i]);
    std::size_t n = utf8_length(text, i);
    if (b == '\n') {
      out += "\\n";
    } else if (n == 0 || b < 0x20 || b == 0x7F) {
      out += fmt::format("\\x{:02x}", b);
      n = 1;
    } else {
      out.append(text.substr(i, n));
    }
    i += n == 0 ? 1 : n;
  }
  return out;
}

}  // namespace flowgate::expr
