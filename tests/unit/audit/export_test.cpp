// Exports (JSON Lines and CSV) of engine-written histories re-verify offline with
// verify(export_source(...)) and with the Python script docs/audit.md prints; a tampered export
// does not.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "audit/export.h"
#include "audit/verify.h"
#include "support/process.h"
#include "support/temp_dir.h"
#include "unit/audit/audit_plugins.h"
#include "unit/audit/history_builder.h"

using namespace flowgate;
using flowgate::testing::HistoryBuilder;
using flowgate::testing::TempDir;

namespace {

struct Exported {
  TempDir dir;
  std::string db = dir.file("fg.db");
  Exported() {
    HistoryBuilder b(db);
    b.all();
    b.close();
  }
  std::string write(audit::ExportOptions o, const std::string& name) {
    o.progress = 0;
    std::ofstream out(dir.file(name), std::ios::binary);
    auto r = audit::export_database(db, o, out);
    if (!r) FAIL(r.error().to_string());
    return dir.file(name);
  }
};

Exported& exported() {
  static Exported e;
  return e;
}

audit::VerifyReport verify_file(const std::string& path) {
  auto src = audit::export_source(path);
  if (!src) FAIL(src.error().to_string());
  audit::VerifyOptions o;
  o.sections = &testing::audit_sections();
  o.hooks = testing::audit_hooks();
  o.progress = 0;
  auto r = audit::verify(**src, o);
  if (!r) FAIL(r.error().to_string());
  return *r;
}

std::string listed(const audit::VerifyReport& r) {
  std::string out;
  for (const auto& f : r.findings) out += f.kind + " " + f.to_string() + "\n";
  return out;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The script docs/audit.md prints for auditors, exactly as printed.
std::string doc_script(const TempDir& dir) {
  std::string doc = slurp(std::string(FLOWGATE_SOURCE_DIR) + "/docs/audit.md");
  auto start = doc.find("\"\"\"verify_export.py");
  REQUIRE(start != std::string::npos);
  start = doc.rfind("```python\n", start);
  REQUIRE(start != std::string::npos);
  start += std::string("```python\n").size();
  auto end = doc.find("```", start);
  std::string path = dir.file("verify_export.py");
  std::ofstream(path) << doc.substr(start, end - start);
  return path;
}

std::string python3() {
  for (const char* p : {"/usr/bin/python3", "/usr/local/bin/python3"}) {
    if (std::filesystem::exists(p)) return p;
  }
  return "";
}

}  // namespace

TEST_CASE("a JSON Lines export re-verifies offline", "[audit][export]") {
  std::string file = exported().write({}, "all.jsonl");
  auto r = verify_file(file);
  INFO(listed(r));
  CHECK(r.ok());
  CHECK(r.instances == 9);
  CHECK(r.definitions == 3);
  CHECK(r.checkpoints >= 3);
  CHECK(r.checkpoints_recomputed == 1);
  CHECK(r.events > 100);
}

TEST_CASE("a CSV export re-verifies offline", "[audit][export]") {
  audit::ExportOptions o;
  o.format = audit::ExportFormat::kCsv;
  std::string file = exported().write(o, "all.csv");
  CHECK(slurp(file).rfind("record,position,instance_id,seq,at_ms,type,actor,body,request_id,"
                          "prev_hash,hash\r\n",
                          0) == 0);
  auto r = verify_file(file);
  INFO(listed(r));
  CHECK(r.ok());
  CHECK(r.instances == 9);
  CHECK(r.events > 100);
}

TEST_CASE("a filtered export verifies its chains from their first exported event",
          "[audit][export]") {
  audit::ExportOptions o;
  o.workflow_id = "itr";
  o.since_ms = testing::kAuditT0 + 30 * testing::kHour;
  std::string file = exported().write(o, "itr.jsonl");
  auto r = verify_file(file);
  INFO(listed(r));
  CHECK(r.ok());
  CHECK(r.checkpoints == 0);
  CHECK(r.instances == 3);
  CHECK(r.definitions == 1);
}

TEST_CASE("an edited event in an export is named by verify --export", "[audit][export]") {
  std::string text = slurp(exported().write({}, "t.jsonl"));
  auto at = text.find("\"satisfaction\":4", text.find("{\"record\":\"event\""));
  REQUIRE(at != std::string::npos);
  text.replace(at, 16, "\"satisfaction\":5");
  std::string tampered = exported().dir.file("tampered.jsonl");
  std::ofstream(tampered, std::ios::binary) << text;
  auto r = verify_file(tampered);
  INFO(listed(r));
  REQUIRE_FALSE(r.ok());
  CHECK(r.findings[0].kind == "event_changed");
  CHECK(r.findings[0].instance_id == "itr-3");
}

TEST_CASE("the auditor's Python script in docs/audit.md verifies an export", "[audit][export]") {
  std::string py = python3();
  if (py.empty()) {
    WARN("python3 is not installed: the documented script was not run");
    return;
  }
  TempDir tmp;
  std::string script = doc_script(tmp);
  std::string file = exported().write({}, "py.jsonl");
  auto ok = testing::run_process({py, script, file});
  INFO(ok.out << ok.err);
  CHECK(ok.status == 0);
  CHECK_THAT(ok.out, Catch::Contains("events of 9 instances verified"));

  std::string text = slurp(file);
  auto at = text.find("\"amount\":\"120000.00\"", text.find("{\"record\":\"event\""));
  REQUIRE(at != std::string::npos);
  text.replace(at, 20, "\"amount\":\"100000.00\"");
  std::string tampered = tmp.file("tampered.jsonl");
  std::ofstream(tampered, std::ios::binary) << text;
  auto bad = testing::run_process({py, script, tampered});
  CHECK(bad.status == 1);
  CHECK_THAT(bad.out, Catch::Contains("chain broken"));
}

TEST_CASE("a file that is not an export is refused with its line", "[audit][export]") {
  TempDir tmp;
  std::ofstream(tmp.file("x.jsonl")) << "{\"record\":\"export\",\"format\":\"flowgate-export\","
                                        "\"format_version\":1,\"complete\":true}\nnot json\n";
  auto src = audit::export_source(tmp.file("x.jsonl"));
  REQUIRE_FALSE(src);
  CHECK(src.error().code == ErrorCode::kInvalidArgument);
  CHECK_THAT(src.error().message, Catch::Contains("x.jsonl:2"));
}
