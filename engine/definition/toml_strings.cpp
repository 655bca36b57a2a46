// Positions inside TOML string values. Expression errors come back relative to the decoded string;
// people need the file line and column, so the raw string is re-read here with the same decoding
// rules as toml++ (quotes, escapes, line-ending backslashes, the newline trimmed after `"""`).
#include "definition/loader_internal.h"

namespace flowgate::loader {

namespace {

struct Position {
  int line;
  int column;
};

// The file position of every byte of a string's decoded value, plus one past the end.
struct DecodedMap {
  std::string text;
  std::vector<Position> at;  // at.size() == text.size() + 1
};

std::size_t utf8_length_of(std::uint32_t cp) {
  return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

std::optional<DecodedMap> decode(std::string_view text, std::size_t start, Position pos) {
  std::size_t i = start;
  auto step = [&]() {
    if (text[i] == '\n') {
      ++pos.line;
      pos.column = 1;
    } else if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
      ++pos.column;
    }
    ++i;
  };
  if (i >= text.size() || (text[i] != '"' && text[i] != '\'')) return std::nullopt;
  const char quote = text[i];
  const bool basic = quote == '"';
  const bool multi = text.substr(i, 3) == std::string_view(basic ? "\"\"\"" : "'''");
  for (int k = 0; k < (multi ? 3 : 1); ++k) step();
  if (multi) {
    if (text.substr(i, 2) == "\r\n") {
      step();
      step();
    } else if (i < text.size() && text[i] == '\n') {
      step();
    }
  }
  DecodedMap out;
  auto emit = [&](std::string_view bytes, Position where) {
    out.text.append(bytes);
    out.at.insert(out.at.end(), bytes.size(), where);
  };
  while (i < text.size()) {
    char c = text[i];
    if (c == quote) {
      if (!multi) break;
      std::size_t run = 0;
      while (i + run < text.size() && text[i + run] == quote) ++run;
      if (run >= 3) {
        // Up to two quotes may precede the closing delimiter and belong to the content.
        for (std::size_t k = 0; k < std::min<std::size_t>(run - 3, 2); ++k) {
          emit(std::string_view(&quote, 1), pos);
          step();
        }
        break;
      }
    }
    if (!multi && c == '\n') return std::nullopt;
    if (basic && c == '\\' && i + 1 < text.size()) {
      Position where = pos;
      char e = text[i + 1];
      if (multi && (e == ' ' || e == '\t' || e == '\n' || e == '\r')) {
        // Line-ending backslash: drops all whitespace and newlines up to the next content.
        step();
        while (i < text.size() &&
               (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r')) {
          step();
        }
        continue;
      }
      step();
      step();
      if (e == 'u' || e == 'U') {
        std::size_t digits = e == 'u' ? 4 : 8;
        std::uint32_t cp = 0;
        for (std::size_t k = 0; k < digits && i < text.size() && is_hex(text[i]); ++k) {
          char h = text[i];
          cp = cp * 16 + static_cast<std::uint32_t>(h <= '9' ? h - '0' : (h | 0x20) - 'a' + 10);
          step();
        }
        // One lead byte and its continuation bytes: the same code point count as the value.
        std::size_t len = utf8_length_of(cp);
        out.text.push_back('?');
        out.text.append(len - 1, '\x80');
        out.at.insert(out.at.end(), len, where);
      } else {
        emit("?", where);
      }
      continue;
    }
    emit(std::string_view(&text[i], 1), pos);
    step();
  }
  out.at.push_back(pos);
  return out;
}

}  // namespace

SourceLocation locate_in_string(const Context& cx, const toml::node& node, int line, int column) {
  SourceLocation fallback = cx.at(node);
  auto begin = node.source().begin;
  std::size_t start = cx.offset_of(static_cast<int>(begin.line), static_cast<int>(begin.column));
  if (start == std::string_view::npos) return fallback;
  auto map =
      decode(cx.text(), start, {static_cast<int>(begin.line), static_cast<int>(begin.column)});
  if (!map) return fallback;
  // The decoded offset of (line, column); columns count code points, as the expression compiler
  // reports them.
  const std::string& text = map->text;
  std::size_t offset = 0;
  for (int l = 1; l < line && offset < text.size(); ++offset) {
    if (text[offset] == '\n') ++l;
  }
  for (int c = 1; c < column && offset < text.size() && text[offset] != '\n'; ++c) {
    ++offset;
    while (offset < text.size() && (static_cast<unsigned char>(text[offset]) & 0xC0) == 0x80) {
      ++offset;
    }
  }
  const Position& p = map->at[offset];
  return cx.at(p.line, p.column);
}

}  // namespace flowgate::loader
