// Checks on the raw bytes of a process file before toml++ parses it. toml++ recurses per nesting
// level both when parsing dotted keys and when destroying the tree, and a 4 MiB file can nest a
// million levels deep (`a.a.a…`), so depth is bounded here, lexically, before any tree exists.
#include <fmt/format.h>

#include "definition/loader.h"
#include "definition/loader_internal.h"

namespace flowgate::loader {

namespace {

// Length of the UTF-8 sequence starting at `s[i]`, or 0 when it is malformed (overlong forms,
// surrogates and code points above U+10FFFF included).
std::size_t utf8_sequence_length(std::string_view s, std::size_t i) {
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i);
  if (c < 0x80) return 1;
  std::size_t len = 0;
  std::uint32_t cp = 0;
  if ((c & 0xE0) == 0xC0) {
    len = 2;
    cp = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    len = 3;
    cp = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    len = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  static constexpr std::uint32_t kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMinForLength[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

// Walks the text once, tracking line and column (in code points, as toml++ counts them).
class Cursor {
 public:
  explicit Cursor(std::string_view text) : text_(text) {}
  bool done() const { return pos_ >= text_.size(); }
  char peek(std::size_t ahead = 0) const {
    return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0';
  }
  bool starts_with(std::string_view s) const { return text_.substr(pos_).starts_with(s); }
  void advance(std::size_t bytes = 1) {
    for (std::size_t k = 0; k < bytes && pos_ < text_.size(); ++k) {
      char c = text_[pos_++];
      if (c == '\n') {
        ++line_;
        column_ = 1;
      } else if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) {
        ++column_;
      }
    }
  }
  int line() const { return line_; }
  int column() const { return column_; }

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
  int line_ = 1;
  int column_ = 1;
};

bool check_bytes(Context& cx) {
  std::string_view text = cx.text();
  int line = 1;
  int column = 1;
  for (std::size_t i = 0; i < text.size();) {
    if (text[i] == '\0') {
      cx.error(rule::kFileBinary, cx.at(line, column),
               "the file contains a NUL byte: it is not a text file",
               "process files are UTF-8 TOML text");
      return false;
    }
    std::size_t len = utf8_sequence_length(text, i);
    if (len == 0) {
      cx.error(rule::kFileEncoding, cx.at(line, column),
               fmt::format("invalid UTF-8 (byte 0x{:02X} at offset {})",
                           static_cast<unsigned char>(text[i]), i),
               "save the file as UTF-8");
      return false;
    }
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
    i += len;
  }
  return true;
}

// An upper bound of the nesting depth toml++ will build: the dots of the current table header,
// plus open brackets and braces inside values, plus the dots of the key being read. Dots in
// numbers and dates count too, which only makes the bound looser by one.
bool check_depth(Context& cx) {
  enum class In { kCode, kComment, kBasic, kLiteral, kMlBasic, kMlLiteral };
  Cursor c(cx.text());
  In in = In::kCode;
  int header_depth = 0;
  int nest = 0;
  int run = 0;
  bool in_header = false;
  bool line_start = true;
  while (!c.done()) {
    char ch = c.peek();
    switch (in) {
      case In::kComment:
        if (ch == '\n') in = In::kCode;
        break;
      case In::kBasic:
      case In::kLiteral:
        if (in == In::kBasic && ch == '\\' && c.peek(1) != '\n') {
          c.advance();
        } else if (ch == (in == In::kBasic ? '"' : '\'') || ch == '\n') {
          in = In::kCode;
        }
        break;
      case In::kMlBasic:
      case In::kMlLiteral: {
        char quote = in == In::kMlBasic ? '"' : '\'';
        if (in == In::kMlBasic && ch == '\\') {
          c.advance();
        } else if (ch == quote && c.peek(1) == quote && c.peek(2) == quote) {
          std::size_t n = 3;
          while (n < 5 && c.peek(n) == quote) ++n;
          c.advance(n - 1);
          in = In::kCode;
        }
        break;
      }
      case In::kCode:
        switch (ch) {
          case '#':
            in = In::kComment;
            break;
          case '"':
          case '\'':
            if (c.peek(1) == ch && c.peek(2) == ch) {
              in = ch == '"' ? In::kMlBasic : In::kMlLiteral;
              c.advance(2);
            } else {
              in = ch == '"' ? In::kBasic : In::kLiteral;
            }
            break;
          case '[':
            if (line_start && nest == 0) {
              in_header = true;
              if (c.peek(1) == '[') c.advance();
            } else {
              ++nest;
            }
            run = 0;
            break;
          case ']':
            if (in_header) {
              header_depth = run + 1;
              in_header = false;
              if (c.peek(1) == ']') c.advance();
            } else if (nest > 0) {
              --nest;
            }
            run = 0;
            break;
          case '{':
            ++nest;
            run = 0;
            break;
          case '}':
            if (nest > 0) --nest;
            run = 0;
            break;
          case '=':
          case ',':
            run = 0;
            break;
          case '.':
            ++run;
            break;
          default:
            break;
        }
        break;
    }
    if (ch == '\n') {
      run = 0;
      line_start = true;
      if (in == In::kComment) in = In::kCode;
    } else if (ch != ' ' && ch != '\t' && ch != '\r') {
      line_start = false;
    }
    int depth = in_header ? run + 1 : header_depth + nest + run;
    if (depth > kMaxNestingDepth) {
      cx.error(rule::kTomlTooDeep, cx.at(c.line(), c.column()),
               fmt::format("nesting deeper than {} levels (tables, arrays and dotted keys)",
                           kMaxNestingDepth),
               "process files need a handful of levels; this looks generated or corrupt");
      return false;
    }
    c.advance();
  }
  return true;
}

}  // namespace

bool prescan(Context& cx) {
  if (cx.text().size() > kMaxProcessFileBytes) {
    cx.error(rule::kFileTooLarge, cx.at(0, 0),
             fmt::format("the file is {} bytes; process files are limited to {} bytes (4 MiB)",
                         cx.text().size(), kMaxProcessFileBytes),
             "split the process, or check that this is the file you meant");
    return false;
  }
  return check_bytes(cx) && check_depth(cx);
}

}  // namespace flowgate::loader
