#include "audit/export.h"

#include <unistd.h>

#include <fstream>
#include <map>
#include <set>
#include <vector>

#include <fmt/format.h>

#include "audit/audit_db.h"
#include "audit/progress.h"

namespace flowgate::audit {
namespace {

using nlohmann::json;

constexpr int kFormatVersion = 1;
const std::vector<std::string> kCsvColumns = {"record",     "position",  "instance_id", "seq",
                                              "at_ms",      "type",      "actor",       "body",
                                              "request_id", "prev_hash", "hash"};

std::string json_string(std::string_view s) {
  return json(std::string(s)).dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string csv_field(std::string_view s) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

json snapshot_json(const InstanceSnapshot& s) {
  return {{"instance_id", s.instance_id},
          {"workflow_id", s.workflow_id},
          {"version", s.version},
          {"state", s.state},
          {"lifecycle", s.lifecycle},
          {"data", s.data},
          {"extra", s.extra},
          {"business_key", s.business_key},
          {"last_seq", s.last_seq},
          {"created_ms", s.created_ms},
          {"updated_ms", s.updated_ms},
          {"head_hash", s.head_hash}};
}

// Writes records in either format. JSON Lines: one object per line with "record" first. CSV: the
// columns of kCsvColumns; events fill them, other records put their fields in `body` as JSON.
class Writer {
 public:
  Writer(std::ostream& out, ExportFormat format) : out_(out), format_(format) {
    if (format_ == ExportFormat::kCsv) {
      for (std::size_t i = 0; i < kCsvColumns.size(); ++i) {
        out_ << (i ? "," : "") << kCsvColumns[i];
      }
      out_ << "\r\n";
    }
  }

  void record(const std::string& kind, json fields) {
    if (format_ == ExportFormat::kJsonl) {
      out_ << R"({"record":)" << json_string(kind);
      for (auto& [k, v] : fields.items()) {
        out_ << ',' << json_string(k) << ':'
             << v.dump(-1, ' ', false, json::error_handler_t::replace);
      }
      out_ << "}\n";
      return;
    }
    std::vector<std::string> cells(kCsvColumns.size());
    cells[0] = kind;
    cells[7] = fields.dump(-1, ' ', false, json::error_handler_t::replace);
    line(cells);
  }

  void event(const EventRow& r) {
    if (format_ == ExportFormat::kJsonl) {
      buf_.clear();
      buf_ += R"({"record":"event","position":)";
      buf_ += fmt::format_int(r.position).c_str();
      buf_ += R"(,"instance_id":)";
      buf_ += json_string(r.instance_id);
      buf_ += R"(,"seq":)";
      buf_ += fmt::format_int(r.seq).c_str();
      buf_ += R"(,"at_ms":)";
      buf_ += fmt::format_int(r.at_ms).c_str();
      buf_ += R"(,"type":)";
      buf_ += json_string(r.type);
      buf_ += R"(,"actor":)";
      buf_ += r.actor.empty() ? std::string_view("null") : r.actor;
      buf_ += R"(,"body":)";
      buf_ += r.body.empty() ? std::string_view("null") : r.body;
      buf_ += R"(,"request_id":)";
      buf_ += r.request_id.empty() ? std::string("null") : json_string(r.request_id);
      buf_ += R"(,"prev_hash":)";
      buf_ += json_string(r.prev_hash);
      buf_ += R"(,"hash":)";
      buf_ += json_string(r.hash);
      buf_ += "}\n";
      out_ << buf_;
      return;
    }
    line({"event", std::to_string(r.position), std::string(r.instance_id), std::to_string(r.seq),
          std::to_string(r.at_ms), std::string(r.type), std::string(r.actor), std::string(r.body),
          std::string(r.request_id), std::string(r.prev_hash), std::string(r.hash)});
  }

 private:
  void line(const std::vector<std::string>& cells) {
    for (std::size_t i = 0; i < cells.size(); ++i) out_ << (i ? "," : "") << csv_field(cells[i]);
    out_ << "\r\n";
  }

  std::ostream& out_;
  ExportFormat format_;
  std::string buf_;
};

}  // namespace

Result<ExportSummary> export_database(const std::string& path, const ExportOptions& options,
                                      std::ostream& out) {
  auto db = AuditDb::open(path);
  if (!db) return fail(db.error());
  AuditDb& d = **db;
  const bool complete =
      !options.since_ms && options.workflow_id.empty() && options.instance_id.empty();
  ExportSummary summary;

  // The instances covered, and the definitions they were pinned to (start and migrations).
  std::vector<InstanceSnapshot> snapshots;
  if (!options.instance_id.empty()) {
    auto s = d.snapshot(options.instance_id);
    if (!s) return fail(s.error());
    if (!*s) {
      return fail(Error(ErrorCode::kInstanceNotFound,
                        fmt::format("no instance `{}` in {}", options.instance_id, path))
                      .with_data("instance_id", options.instance_id));
    }
    if (options.workflow_id.empty() || (*s)->workflow_id == options.workflow_id) {
      snapshots.push_back(std::move(**s));
    }
  } else {
    auto ok = d.each_snapshot(options.workflow_id,
                              [&](InstanceSnapshot&& s) { snapshots.push_back(std::move(s)); });
    if (!ok) return fail(ok.error());
  }
  std::set<std::string> workflows;
  for (const auto& s : snapshots) workflows.insert(s.workflow_id);
  auto defs = d.definitions();
  if (!defs) return fail(defs.error());
  auto cps = d.checkpoints();
  if (!cps) return fail(cps.error());
  auto max_number = d.max_instance_number();
  if (!max_number) return fail(max_number.error());

  json filters = json::object();
  if (options.since_ms) filters["since_ms"] = *options.since_ms;
  if (!options.workflow_id.empty()) filters["workflow_id"] = options.workflow_id;
  if (!options.instance_id.empty()) filters["instance_id"] = options.instance_id;

  Writer w(out, options.format);
  w.record("export", {{"format", "flowgate-export"},
                      {"format_version", kFormatVersion},
                      {"source", path},
                      {"complete", complete},
                      {"filters", filters},
                      {"max_instance_number", *max_number}});
  for (const auto& def : *defs) {
    // Every version of a covered workflow: migrations may have used any of them.
    if (!complete && !workflows.count(def.workflow_id)) continue;
    w.record("definition", {{"workflow_id", def.workflow_id},
                            {"version", def.version},
                            {"content_hash", def.content_hash},
                            {"source_text", def.source_text},
                            {"file", def.file},
                            {"loaded_ms", def.loaded_ms}});
    ++summary.definitions;
  }
  if (complete) {
    for (const auto& cp : *cps) {
      w.record("checkpoint", {{"id", cp.id},
                              {"position", cp.position},
                              {"at_ms", cp.at_ms},
                              {"instance_count", cp.instance_count},
                              {"event_count", cp.event_count},
                              {"heads_hash", cp.heads_hash}});
      ++summary.checkpoints;
    }
  }
  for (const auto& s : snapshots) {
    w.record("instance", snapshot_json(s));
    ++summary.instances;
  }
  snapshots.clear();

  EventFilter filter;
  filter.instance_id = options.instance_id;
  filter.workflow_id = options.workflow_id;
  filter.since_ms = options.since_ms;
  auto total = d.last_position();
  Progress progress("export", options.instance_id.empty() && total ? *total : 0,
                    options.progress < 0 ? isatty(STDERR_FILENO) == 1 : options.progress == 1);
  auto cursor = d.events(filter);
  if (!cursor) return fail(cursor.error());
  while (cursor->next()) {
    w.event(cursor->row());
    ++summary.events;
    progress.tick(summary.events);
  }
  progress.finish();
  if (cursor->error()) return fail(*cursor->error());
  out.flush();
  if (!out) {
    return fail(Error(ErrorCode::kStorage, "writing the export failed (disk full?)"));
  }
  return summary;
}

// ---- reading an export ---------------------------------------------------------------------

namespace {

// One CSV record (RFC 4180: quoted fields may hold commas, quotes and line breaks).
bool read_csv_record(std::istream& in, std::vector<std::string>& cells, std::int64_t& line_no) {
  cells.clear();
  std::string cell;
  bool quoted = false;
  bool any = false;
  char c;
  while (in.get(c)) {
    any = true;
    if (quoted) {
      if (c == '"') {
        if (in.peek() == '"') {
          in.get(c);
          cell += '"';
        } else {
          quoted = false;
        }
      } else {
        if (c == '\n') ++line_no;
        cell += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      cells.push_back(std::move(cell));
      cell.clear();
    } else if (c == '\n') {
      ++line_no;
      break;
    } else if (c != '\r') {
      cell += c;
    }
  }
  if (!any) return false;
  cells.push_back(std::move(cell));
  return true;
}

class ExportSource final : public AuditSource {
 public:
  explicit ExportSource(std::string path) : path_(std::move(path)) {}

  Result<void> load() {
    std::ifstream in(path_, std::ios::binary);
    if (!in) {
      return fail(Error(ErrorCode::kStorage, fmt::format("cannot read the export {}", path_))
                      .with_data("path", path_));
    }
    std::string first;
    std::getline(in, first);
    csv_ = first.rfind("record,", 0) == 0;
    in.seekg(0);
    bool header = false;
    auto ok = each_record(
        in,
        [&](const std::string& kind, const json& rec, std::int64_t line) -> Result<void> {
          if (kind == "export") {
            if (rec.value("format", std::string()) != "flowgate-export") {
              return fail(invalid(line, "it is not a flowgate export"));
            }
            if (rec.value("format_version", 0) != kFormatVersion) {
              return fail(invalid(line, fmt::format("export format version {} is not supported",
                                                    rec.value("format_version", 0))));
            }
            complete_ = rec.value("complete", false);
            max_instance_number_ = rec.value("max_instance_number", std::int64_t{0});
            header = true;
          } else if (kind == "definition") {
            definitions_.push_back(
                {rec.value("workflow_id", std::string()), rec.value("version", 0),
                 rec.value("content_hash", std::string()), rec.value("source_text", std::string()),
                 rec.value("file", std::string()), rec.value("loaded_ms", std::int64_t{0})});
          } else if (kind == "checkpoint") {
            checkpoints_.push_back(
                {rec.value("id", std::int64_t{0}), rec.value("position", std::int64_t{0}),
                 rec.value("at_ms", std::int64_t{0}), rec.value("instance_count", std::int64_t{0}),
                 rec.value("event_count", std::int64_t{0}),
                 rec.value("heads_hash", std::string())});
          } else if (kind == "instance") {
            InstanceSnapshot s;
            s.instance_id = rec.value("instance_id", std::string());
            s.workflow_id = rec.value("workflow_id", std::string());
            s.version = rec.value("version", 0);
            s.state = rec.value("state", std::string());
            s.lifecycle = rec.value("lifecycle", std::string());
            s.data = rec.value("data", json::object());
            s.extra = rec.value("extra", json::object());
            s.business_key = rec.value("business_key", std::string());
            s.last_seq = rec.value("last_seq", std::int64_t{0});
            s.created_ms = rec.value("created_ms", std::int64_t{0});
            s.updated_ms = rec.value("updated_ms", std::int64_t{0});
            s.head_hash = rec.value("head_hash", std::string());
            if (s.instance_id.empty())
              return fail(invalid(line, "an instance without instance_id"));
            snapshots_[s.instance_id] = std::move(s);
          } else {
            return fail(invalid(line, fmt::format("unknown record `{}`", kind)));
          }
          return {};
        },
        /*events=*/false);
    if (!ok) return ok;
    if (!header) return fail(invalid(1, "it has no `export` header record"));
    return {};
  }

  const std::string& name() const override { return path_; }
  bool complete() const override { return complete_; }
  Result<std::vector<StoredDefinition>> definitions() override { return definitions_; }
  Result<std::vector<Checkpoint>> checkpoints() override { return checkpoints_; }
  Result<std::int64_t> max_instance_number() override { return max_instance_number_; }
  Result<std::int64_t> last_position() override { return events_; }
  Result<void> each_instance_head(const std::function<void(InstanceHead&&)>& fn) override {
    for (const auto& [id, s] : snapshots_) {
      fn(InstanceHead{0, s.instance_id, s.workflow_id, s.version, s.last_seq, s.head_hash});
    }
    return {};
  }
  Result<std::optional<InstanceSnapshot>> snapshot(const InstanceHead& head) override {
    auto it = snapshots_.find(head.instance_id);
    if (it == snapshots_.end()) return std::optional<InstanceSnapshot>();
    return std::optional<InstanceSnapshot>(it->second);
  }
  Result<void> each_event(const std::function<bool(const EventRow&)>& fn) override {
    std::ifstream in(path_, std::ios::binary);
    if (!in)
      return fail(Error(ErrorCode::kStorage, fmt::format("cannot read the export {}", path_)));
    std::string actor, body, instance, type, request, prev, hash;
    bool stop = false;
    return each_record(
        in,
        [&](const std::string& kind, const json& rec, std::int64_t line) -> Result<void> {
          if (kind != "event" || stop) return {};
          EventRow r;
          auto int_field = [&](const char* key, std::int64_t& out) -> bool {
            auto it = rec.find(key);
            if (it == rec.end() || !it->is_number_integer()) return false;
            out = it->get<std::int64_t>();
            return true;
          };
          if (!int_field("position", r.position) || !int_field("seq", r.seq) ||
              !int_field("at_ms", r.at_ms)) {
            return fail(invalid(line, "an event needs integer position, seq and at_ms"));
          }
          auto text = [&](const char* key, std::string& out) {
            auto it = rec.find(key);
            out = it != rec.end() && it->is_string() ? it->get<std::string>() : std::string();
          };
          text("instance_id", instance);
          text("type", type);
          text("request_id", request);
          text("prev_hash", prev);
          text("hash", hash);
          auto json_text = [&](const char* key, std::string& out) {
            auto it = rec.find(key);
            if (it == rec.end()) {
              out.clear();
            } else if (it->is_string() && csv_) {
              out = it->get<std::string>();  // CSV: the stored JSON text
            } else {
              out = it->dump(-1, ' ', false, json::error_handler_t::replace);
            }
          };
          json_text("actor", actor);
          json_text("body", body);
          r.instance_id = instance;
          r.type = type;
          r.actor = actor;
          r.body = body;
          r.request_id = request;
          r.prev_hash = prev;
          r.hash = hash;
          if (!fn(r)) stop = true;
          return {};
        },
        /*events=*/true);
  }

 private:
  Error invalid(std::int64_t line, const std::string& what) const {
    return Error(ErrorCode::kInvalidArgument,
                 fmt::format("{}:{}: not a valid export: {}", path_, line, what))
        .with_data("path", path_)
        .with_data("line", line);
  }

  using RecordFn = std::function<Result<void>(const std::string&, const json&, std::int64_t)>;

  // Calls fn for every record (only events when `events`, only the others otherwise).
  Result<void> each_record(std::istream& in, const RecordFn& fn, bool events) {
    std::int64_t line_no = 0;
    if (csv_) {
      std::vector<std::string> cells;
      std::int64_t start = 1;
      line_no = 1;
      if (!read_csv_record(in, cells, line_no) || cells != kCsvColumns) {
        return fail(
            invalid(1, "the CSV header is not " + fmt::format("{}", fmt::join(kCsvColumns, ","))));
      }
      while (true) {
        start = line_no;
        if (!read_csv_record(in, cells, line_no)) break;
        if (cells.size() == 1 && cells[0].empty()) continue;
        if (cells.size() != kCsvColumns.size()) {
          return fail(invalid(
              start, fmt::format("{} columns, expected {}", cells.size(), kCsvColumns.size())));
        }
        const bool is_event = cells[0] == "event";
        if (is_event && !events) ++events_;
        if (is_event != events) continue;
        json rec;
        if (is_event) {
          auto number = [&](const std::string& s) -> json {
            try {
              std::size_t used = 0;
              long long v = std::stoll(s, &used);
              if (used == s.size()) return v;
            } catch (...) {
            }
            return nullptr;
          };
          rec = {{"position", number(cells[1])},
                 {"instance_id", cells[2]},
                 {"seq", number(cells[3])},
                 {"at_ms", number(cells[4])},
                 {"type", cells[5]},
                 {"actor", cells[6]},
                 {"body", cells[7]},
                 {"request_id", cells[8]},
                 {"prev_hash", cells[9]},
                 {"hash", cells[10]}};
        } else {
          rec = json::parse(cells[7], nullptr, /*allow_exceptions=*/false);
          if (rec.is_discarded() || !rec.is_object()) {
            return fail(invalid(start, "the body of a `" + cells[0] + "` record is not JSON"));
          }
        }
        if (auto ok = fn(cells[0], rec, start); !ok) return ok;
      }
      return {};
    }
    std::string line;
    while (std::getline(in, line)) {
      ++line_no;
      if (line.empty()) continue;
      // Exports written by flowgate start event lines with this prefix; other lines are parsed
      // to tell (a file re-formatted by another tool still reads).
      const bool is_event = line.rfind(R"({"record":"event")", 0) == 0;
      if (is_event && !events) {
        ++events_;
        continue;
      }
      if (!is_event && events && !loose_events_) continue;
      json rec = json::parse(line, nullptr, /*allow_exceptions=*/false);
      if (rec.is_discarded() || !rec.is_object() || !rec.contains("record") ||
          !rec["record"].is_string()) {
        return fail(invalid(line_no, "the line is not a JSON object with a `record`"));
      }
      std::string kind = rec["record"].get<std::string>();
      if ((kind == "event") != events) {
        if (kind == "event") loose_events_ = true;
        if (kind == "event") ++events_;
        continue;
      }
      if (auto ok = fn(kind, rec, line_no); !ok) return ok;
    }
    return {};
  }

  std::string path_;
  bool csv_ = false;
  bool loose_events_ = false;  // event lines without flowgate's prefix were seen
  bool complete_ = false;
  std::int64_t max_instance_number_ = 0;
  std::int64_t events_ = 0;
  std::vector<StoredDefinition> definitions_;
  std::vector<Checkpoint> checkpoints_;
  std::map<std::string, InstanceSnapshot> snapshots_;
};

}  // namespace

Result<std::unique_ptr<AuditSource>> export_source(const std::string& path) {
  auto src = std::make_unique<ExportSource>(path);
  if (auto ok = src->load(); !ok) return fail(ok.error());
  return std::unique_ptr<AuditSource>(std::move(src));
}

}  // namespace flowgate::audit
