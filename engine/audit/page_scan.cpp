#include "audit/page_scan.h"

#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <filesystem>
#include <string_view>
#include <vector>

namespace flowgate::audit {
namespace {

constexpr std::uint32_t kWindowPages = 64;  // pages per read: leaf pages mostly come in file order
constexpr std::size_t kMaxDepth = 20;       // SQLite's own limit (BTCURSOR_MAX_DEPTH)
constexpr std::uint64_t kMaxPayload = std::uint64_t{64} << 20;
constexpr unsigned char kInteriorTable = 0x05;
constexpr unsigned char kLeafTable = 0x0D;
constexpr int kColumns = 10;

// The events table as the store creates it: SELECT's columns, in this order, position the rowid.
constexpr std::array<std::string_view, kColumns> kColumnNames = {
    "position", "instance_id", "seq",        "at_ms",     "type",
    "actor",    "body",        "request_id", "prev_hash", "hash"};

std::uint32_t be16(const unsigned char* p) { return std::uint32_t{p[0]} << 8 | p[1]; }
std::uint32_t be32(const unsigned char* p) {
  return std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 | p[3];
}

// SQLite's variable-length integer (1–9 bytes, big-endian); false when it runs past `end`.
bool varint(const unsigned char*& p, const unsigned char* end, std::uint64_t& v) {
  v = 0;
  for (int i = 0; i < 8; ++i) {
    if (p >= end) return false;
    const unsigned char b = *p++;
    v = v << 7 | (b & 0x7f);
    if ((b & 0x80) == 0) return true;
  }
  if (p >= end) return false;
  v = v << 8 | *p++;
  return true;
}

// The size of a value of serial type `t` in a record body; false for the reserved types.
bool serial_size(std::uint64_t t, std::uint64_t& size) {
  static constexpr std::array<std::uint64_t, 10> kFixed = {0, 1, 2, 3, 4, 6, 8, 8, 0, 0};
  if (t < kFixed.size()) {
    size = kFixed[t];
    return true;
  }
  if (t < 12) return false;
  size = (t - 12) / 2;
  return true;
}

// Does the file beside the database exist with something in it (or cannot be looked at)?
bool holds_something(const std::string& path) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (ec) return ec != std::errc::no_such_file_or_directory;
  if (!std::filesystem::exists(status)) return false;
  const auto size = std::filesystem::file_size(path, ec);
  return ec || size > 0;
}

// A one-column query's text rows.
// Every row of `sql`, each column as text (NULL as empty).
std::vector<std::vector<std::string>> rows_of(sqlite3* db, const char* sql) {
  std::vector<std::vector<std::string>> out;
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &s, nullptr) != SQLITE_OK) return out;
  while (sqlite3_step(s) == SQLITE_ROW) {
    auto& row = out.emplace_back();
    for (int c = 0; c < sqlite3_column_count(s); ++c) {
      const auto* t = reinterpret_cast<const char*>(sqlite3_column_text(s, c));
      row.emplace_back(t != nullptr ? t : "");
    }
  }
  sqlite3_finalize(s);
  return out;
}

}  // namespace

struct EventPageScan::Impl {
  sqlite3_file* file = nullptr;
  std::uint32_t page_size = 0;
  std::uint32_t usable = 0;  // page size less the reserved bytes at each page's end
  std::uint32_t page_count = 0;
  std::uint32_t root = 0;
  std::vector<unsigned char> window;  // pages [window_first, window_first + window_pages)
  std::uint32_t window_first = 0, window_pages = 0;
  std::vector<unsigned char> overflow_page;
  std::string payload;  // a record that continues on overflow pages, put together

  bool read(std::uint32_t first, std::uint32_t pages, unsigned char* out) const {
    const auto bytes = static_cast<int>(pages * page_size);
    const auto offset = static_cast<sqlite3_int64>(first - 1) * page_size;
    return file->pMethods->xRead(file, out, bytes, offset) == SQLITE_OK;
  }

  // Page `pgno` (1-based, within the file), read with the pages after it; null when it cannot be.
  const unsigned char* page(std::uint32_t pgno) {
    if (pgno >= window_first && pgno - window_first < window_pages) {
      return window.data() + std::size_t{pgno - window_first} * page_size;
    }
    const std::uint32_t n = std::min(kWindowPages, page_count - pgno + 1);
    window.resize(std::size_t{kWindowPages} * page_size);
    window_pages = 0;
    if (!read(pgno, n, window.data())) return nullptr;
    window_first = pgno;
    window_pages = n;
    return window.data();
  }

  // The record of a leaf cell whose payload (`total` bytes) starts at `local` with `local_size`
  // bytes on the page and continues from overflow page `next`; false when the chain does not hold
  // it.
  bool assemble(const unsigned char* local, std::uint64_t local_size, std::uint64_t total,
                std::uint32_t next) {
    payload.assign(reinterpret_cast<const char*>(local), local_size);
    overflow_page.resize(page_size);
    std::uint64_t left = total - local_size;
    while (left > 0) {
      if (next < 2 || next > page_count || !read(next, 1, overflow_page.data())) return false;
      const std::uint64_t n = std::min<std::uint64_t>(left, usable - 4);
      payload.append(reinterpret_cast<const char*>(overflow_page.data()) + 4, n);
      left -= n;
      next = be32(overflow_page.data());
    }
    return true;
  }

  // Reads the record [p, p + size) into `row` (position set by the caller); an empty string when
  // it is as SQLite would read it, else what is not.
  static const char* decode(const unsigned char* p, std::uint64_t size, EventRow& row) {
    const unsigned char* end = p + size;
    const unsigned char* h = p;
    std::uint64_t header_size = 0;
    if (!varint(h, end, header_size) || header_size > size ||
        header_size < static_cast<std::uint64_t>(h - p)) {
      return "a record header that does not fit its record";
    }
    const unsigned char* header_end = p + header_size;
    std::array<std::uint64_t, kColumns> types{};
    int n = 0;
    while (h < header_end) {
      if (n == kColumns) return "a record with more columns than the table";
      if (!varint(h, header_end, types[static_cast<std::size_t>(n)])) {
        return "a record header that does not fit its record";
      }
      ++n;
    }
    if (n != kColumns) return "a record with fewer columns than the table";
    const unsigned char* v = header_end;
    std::array<std::string_view, kColumns> text;
    std::array<std::int64_t, kColumns> number{};
    for (std::size_t c = 0; c < kColumns; ++c) {
      const std::uint64_t t = types[c];
      std::uint64_t len = 0;
      if (!serial_size(t, len)) return "a value of a reserved type";
      if (len > static_cast<std::uint64_t>(end - v)) return "values past the end of their record";
      if (c == 0) {
        if (t != 0) return "a position stored in the record";  // the rowid alias is always NULL
      } else if (c == 2 || c == 3) {
        if (t >= 1 && t <= 6) {
          std::uint64_t u = (v[0] & 0x80) != 0 ? ~std::uint64_t{0} : 0;  // sign-extended
          for (std::uint64_t i = 0; i < len; ++i) u = u << 8 | v[i];
          number[c] = static_cast<std::int64_t>(u);
        } else if (t == 8 || t == 9) {
          number[c] = t == 9 ? 1 : 0;
        } else {
          return "an integer column holding another type";
        }
      } else if (t >= 13 && (t & 1) == 1) {
        text[c] = std::string_view(reinterpret_cast<const char*>(v), len);
      } else if (t != 0) {  // NULL reads as empty text, as sqlite3_column_text gives it
        return "a text column holding another type";
      }
      v += len;
    }
    if (v != end) return "a record longer than its values";
    row.instance_id = text[1];
    row.seq = number[2];
    row.at_ms = number[3];
    row.type = text[4];
    row.actor = text[5];
    row.body = text[6];
    row.request_id = text[7];
    row.prev_hash = text[8];
    row.hash = text[9];
    return "";
  }
};

EventPageScan::EventPageScan(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
EventPageScan::~EventPageScan() = default;

std::unique_ptr<EventPageScan> EventPageScan::open(sqlite3* db, const std::string& path) {
  if (db == nullptr || path.empty() || path == ":memory:") return nullptr;
  // Checked inside the read transaction: a log that is empty now was empty when it began (SQLite
  // cannot empty a log while a reader uses its frames), so the snapshot is the file.
  if (holds_something(path + "-wal") || holds_something(path + "-journal")) return nullptr;
  const auto encoding = rows_of(db, "PRAGMA encoding");
  if (encoding.size() != 1 || encoding[0].at(0) != "UTF-8") return nullptr;
  // table_info: cid, name, type, notnull, dflt_value, pk
  const auto columns = rows_of(db, "PRAGMA table_info(events)");
  if (columns.size() != kColumns) return nullptr;
  for (std::size_t c = 0; c < kColumns; ++c) {
    if (columns[c].size() < 6 || columns[c][1] != kColumnNames[c] ||
        columns[c][5] != (c == 0 ? "1" : "0")) {
      return nullptr;
    }
  }
  if (columns[0][2] != "INTEGER") return nullptr;  // only INTEGER PRIMARY KEY is the rowid
  const auto roots =
      rows_of(db, "SELECT rootpage FROM sqlite_master WHERE type = 'table' AND name = 'events'");
  if (roots.size() != 1) return nullptr;

  auto impl = std::make_unique<Impl>();
  if (sqlite3_file_control(db, "main", SQLITE_FCNTL_FILE_POINTER, &impl->file) != SQLITE_OK ||
      impl->file == nullptr || impl->file->pMethods == nullptr) {
    return nullptr;
  }
  std::array<unsigned char, 100> header{};
  if (impl->file->pMethods->xRead(impl->file, header.data(), 100, 0) != SQLITE_OK ||
      std::memcmp(header.data(), "SQLite format 3", 16) != 0 || be32(&header[56]) != 1) {
    return nullptr;
  }
  const std::uint32_t size_field = be16(&header[16]);
  impl->page_size = size_field == 1 ? 65536 : size_field;
  if (impl->page_size < 512 || (impl->page_size & (impl->page_size - 1)) != 0) return nullptr;
  impl->usable = impl->page_size - header[20];
  if (impl->usable < 480) return nullptr;
  sqlite3_int64 bytes = 0;
  if (impl->file->pMethods->xFileSize(impl->file, &bytes) != SQLITE_OK || bytes <= 0)
    return nullptr;
  const sqlite3_int64 pages = bytes / impl->page_size;
  if (pages > 0xffffffffLL) return nullptr;
  impl->page_count = static_cast<std::uint32_t>(pages);
  char* end = nullptr;
  const unsigned long root = std::strtoul(roots[0].at(0).c_str(), &end, 10);
  if (end == roots[0].at(0).c_str() || *end != '\0' || root < 1 || root > impl->page_count) {
    return nullptr;
  }
  impl->root = static_cast<std::uint32_t>(root);
  return std::unique_ptr<EventPageScan>(new EventPageScan(std::move(impl)));
}

EventPageScan::Outcome EventPageScan::each(std::int64_t until,
                                           const std::function<bool(const EventRow&)>& fn) {
  Impl& s = *impl_;
  Outcome out;
  auto stop = [&](std::uint32_t pgno, const char* why) {
    out.stopped = std::string(why) + " on page " + std::to_string(pgno);
    return out;
  };
  // The interior pages on the way down (copies: the window moves on) and the next child of each.
  struct Frame {
    std::vector<unsigned char> page;
    std::uint32_t pgno = 0;
    std::uint32_t header = 0;  // 100 on page 1
    std::uint32_t cells = 0;
    std::uint32_t next = 0;  // cells: the children before them; `cells`: the right-most child
  };
  std::vector<Frame> stack;
  std::uint64_t visited = 0;
  std::uint32_t pgno = s.root;
  const std::uint64_t max_local = s.usable - 35;
  const std::uint64_t min_local = (std::uint64_t{s.usable} - 12) * 32 / 255 - 23;
  EventRow row;
  while (pgno != 0) {
    if (pgno > s.page_count || ++visited > s.page_count) return stop(pgno, "a page out of range");
    const unsigned char* p = s.page(pgno);
    if (p == nullptr) return stop(pgno, "a page that could not be read");
    const std::uint32_t h = pgno == 1 ? 100 : 0;
    const unsigned char kind = p[h];
    const std::uint32_t cells = be16(p + h + 3);
    if (kind == kInteriorTable) {
      if (stack.size() == kMaxDepth) return stop(pgno, "a b-tree deeper than SQLite reads");
      if (h + 12 + std::uint64_t{cells} * 2 > s.usable) return stop(pgno, "too many cells");
      stack.push_back(Frame{std::vector<unsigned char>(p, p + s.page_size), pgno, h, cells, 0});
    } else if (kind == kLeafTable) {
      const std::uint32_t first_cell = h + 8 + cells * 2;
      if (first_cell > s.usable) return stop(pgno, "too many cells");
      for (std::uint32_t i = 0; i < cells; ++i) {
        const std::uint32_t at = be16(p + h + 8 + i * 2);
        if (at < first_cell || at >= s.usable) return stop(pgno, "a cell outside its page");
        const unsigned char* c = p + at;
        const unsigned char* limit = p + s.usable;
        std::uint64_t size = 0, key = 0;
        if (!varint(c, limit, size) || !varint(c, limit, key)) {
          return stop(pgno, "a cell outside its page");
        }
        const auto position = static_cast<std::int64_t>(key);
        if (position > until) {
          out.finished = true;
          return out;
        }
        if (size > kMaxPayload) return stop(pgno, "a record too large to read here");
        std::uint64_t local = size;
        if (size > max_local) {
          const std::uint64_t k = min_local + (size - min_local) % (s.usable - 4);
          local = k <= max_local ? k : min_local;
        }
        const bool spills = local < size;
        if (local + (spills ? 4 : 0) > static_cast<std::uint64_t>(limit - c)) {
          return stop(pgno, "a cell outside its page");
        }
        const unsigned char* record = c;
        if (spills) {
          if (!s.assemble(c, local, size, be32(c + local))) {
            return stop(pgno, "an overflow chain that does not hold its record");
          }
          record = reinterpret_cast<const unsigned char*>(s.payload.data());
        }
        row.position = position;
        if (const char* bad = Impl::decode(record, size, row); *bad != '\0') return stop(pgno, bad);
        ++out.delivered;
        out.last_position = position;
        if (!fn(row)) {
          out.finished = true;
          return out;
        }
      }
    } else {
      return stop(pgno, "a page that is not part of a table");
    }
    // The next child of the deepest interior page that has one left.
    pgno = 0;
    while (!stack.empty() && pgno == 0) {
      Frame& f = stack.back();
      if (f.next > f.cells) {
        stack.pop_back();
        continue;
      }
      const unsigned char* fp = f.page.data();
      if (f.next == f.cells) {
        pgno = be32(fp + f.header + 8);
      } else {
        const std::uint32_t at = be16(fp + f.header + 12 + f.next * 2);
        if (at < f.header + 12 + f.cells * 2 || at + 4 > s.usable) {
          return stop(f.pgno, "a cell outside its page");
        }
        pgno = be32(fp + at);
      }
      ++f.next;
      if (pgno == 0) return stop(f.pgno, "a child page numbered 0");
    }
  }
  out.finished = true;
  return out;
}

}  // namespace flowgate::audit
