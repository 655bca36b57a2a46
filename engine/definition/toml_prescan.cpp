// Checks on the raw bytes of a process file before toml++ parses it. toml++ recurses per nesting
// level both when parsing dotted keys and when destroying the tree, and a 4 MiB file can nest a
// million levels deep (`a.a.a…`), so depth is bounded here, lexically, before any tree exists.
#include <algorithm>

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

// Line and column (in code points, as toml++ counts them) of a byte offset. Only computed when
// something is reported, so that the scans below stay tight loops.
SourceLocation position_of(const Context& cx, std::string_view text, std::size_t offset) {
  std::size_t line_start = text.rfind('\n', offset == 0 ? 0 : offset - 1);
  line_start = (line_start == std::string_view::npos || offset == 0) ? 0 : line_start + 1;
  int line = 1 + static_cast<int>(std::count(
                     text.begin(), text.begin() + static_cast<std::ptrdiff_t>(line_start), '\n'));
  int column = 1;
  for (std::size_t i = line_start; i < offset; ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) ++column;
  }
  return cx.at(line, column);
}

bool check_bytes(Context& cx) {
  std::string_view text = cx.text();
  const auto* data = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t size = text.size();
  for (std::size_t i = 0; i < size;) {
    unsigned char c = data[i];
    if (c != 0 && c < 0x80) {
      ++i;
      continue;
    }
    if (c == 0) {
      cx.error(rule::kFileBinary, position_of(cx, text, i),
               "the file contains a NUL byte: it is not a text file",
               "process files are UTF-8 TOML text");
      return false;
    }
    std::size_t len = utf8_sequence_length(text, i);
    if (len == 0) {
      cx.error(rule::kFileEncoding, position_of(cx, text, i),
               fmt::format("invalid UTF-8 (byte 0x{:02X} at offset {})", c, i),
               "save the file as UTF-8");
      return false;
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
  std::string_view text = cx.text();
  const char* data = text.data();
  const std::size_t size = text.size();
  auto at = [&](std::size_t k) { return k < size ? data[k] : '\0'; };
  In in = In::kCode;
  int header_depth = 0;
  int nest = 0;
  int run = 0;
  bool in_header = false;
  bool line_start = true;
  for (std::size_t i = 0; i < size; ++i) {
    const char ch = data[i];
    switch (in) {
      case In::kComment:
        if (ch == '\n') in = In::kCode;
        break;
      case In::kBasic:
      case In::kLiteral:
        if (in == In::kBasic && ch == '\\' && at(i + 1) != '\n') {
          ++i;
          continue;
        }
        if (ch == (in == In::kBasic ? '"' : '\'') || ch == '\n') in = In::kCode;
        break;
      case In::kMlBasic:
      case In::kMlLiteral: {
        const char quote = in == In::kMlBasic ? '"' : '\'';
        if (in == In::kMlBasic && ch == '\\') {
          ++i;
          continue;
        }
        if (ch == quote && at(i + 1) == quote && at(i + 2) == quote) {
          std::size_t n = 3;
          while (n < 5 && at(i + n) == quote) ++n;
          i += n - 1;
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
            if (at(i + 1) == ch && at(i + 2) == ch) {
              in = ch == '"' ? In::kMlBasic : In::kMlLiteral;
              i += 2;
            } else {
              in = ch == '"' ? In::kBasic : In::kLiteral;
            }
            break;
          case '[':
            if (line_start && nest == 0) {
              in_header = true;
              if (at(i + 1) == '[') ++i;
            } else {
              ++nest;
            }
            run = 0;
            break;
          case ']':
            if (in_header) {
              header_depth = run + 1;
              in_header = false;
              if (at(i + 1) == ']') ++i;
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
    } else if (ch != ' ' && ch != '\t' && ch != '\r') {
      line_start = false;
    }
    int depth = in_header ? run + 1 : header_depth + nest + run;
    if (depth > kMaxNestingDepth) {
      cx.error(rule::kTomlTooDeep, position_of(cx, text, i),
               fmt::format("nesting deeper than {} levels (tables, arrays and dotted keys)",
                           kMaxNestingDepth),
               "process files need a handful of levels; this looks generated or corrupt");
      return false;
    }
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
