// The fast readers of event bodies (audit/event_body.h) give apply() exactly what a full JSON
// parse gives it: histories folded both ways agree, and unusual text falls back to the full parse.
#include <catch2/catch.hpp>

#include <SQLiteCpp/SQLiteCpp.h>

#include "audit/definitions.h"
#include "audit/event_body.h"
#include "audit/fold.h"
#include "definition/loader.h"
#include "runtime/decide.h"
#include "support/temp_dir.h"
#include "unit/audit/audit_plugins.h"
#include "unit/audit/history_builder.h"

using namespace flowgate;
using flowgate::testing::HistoryBuilder;
using flowgate::testing::TempDir;
using nlohmann::json;

namespace {

// Folds with the full parse and apply() only: the reference.
std::optional<audit::FoldError> fold_reference(audit::FoldState& f, const std::string& type,
                                               const std::string& body, std::int64_t at,
                                               const audit::DefinitionSet& defs) {
  Event e{type, json::parse(body, nullptr, false)};
  if (e.body.is_discarded() || !e.body.is_object()) {
    return audit::FoldError{audit::FoldError::Kind::kMalformed, "not an object"};
  }
  return audit::fold_event(f, e, at, defs, testing::audit_hooks());
}

std::shared_ptr<const Workflow> itr() {
  LoadResult r = load_workflow_file(std::string(FLOWGATE_SOURCE_DIR) + "/workflows/itr.toml",
                                    testing::audit_sections());
  REQUIRE(r.ok());
  return r.workflow;
}

InstanceState started(const Workflow& wf) {
  InstanceState s;
  s.id = "itr-1";
  Event e{"instance_started",
          {{"workflow", "itr"},
           {"version", 1},
           {"definition_hash", wf.content_hash},
           {"state", "registered"},
           {"data", {{"channel", "web"}}}}};
  REQUIRE(apply(s, e, wf, 1000, testing::audit_hooks()));
  return s;
}

// apply_from_text either applies exactly like apply() on the parsed body, or changes nothing.
void same_as_apply(const std::string& type, const std::string& body, bool expect_fast) {
  auto wf = itr();
  InstanceState fast = started(*wf);
  InstanceState slow = fast;
  const InstanceState before = fast;
  bool applied = audit::apply_from_text(fast, type, body, *wf, 2000);
  CHECK(applied == expect_fast);
  if (!applied) {
    CHECK(to_snapshot(fast, *wf).data == to_snapshot(before, *wf).data);
    CHECK(fast.last_seq == before.last_seq);
    return;
  }
  json parsed;
  REQUIRE(audit::parse_body_for_apply(type, body, parsed));
  REQUIRE(apply(slow, Event{type, parsed}, *wf, 2000, testing::audit_hooks()));
  InstanceSnapshot a = to_snapshot(fast, *wf), b = to_snapshot(slow, *wf);
  CHECK(a.state == b.state);
  CHECK(a.lifecycle == b.lifecycle);
  CHECK(a.data == b.data);
  CHECK(a.last_seq == b.last_seq);
  CHECK(a.updated_ms == b.updated_ms);
}

}  // namespace

TEST_CASE("histories folded from text equal histories folded from parsed JSON", "[audit][fold]") {
  TempDir dir;
  HistoryBuilder b(dir.file("fg.db"));
  b.all();
  b.close();
  SQLite::Database db(dir.file("fg.db"), SQLite::OPEN_READONLY);
  std::vector<StoredDefinition> stored;
  SQLite::Statement q(db,
                      "SELECT workflow_id, version, content_hash, source_text FROM definitions");
  while (q.executeStep()) {
    stored.push_back({q.getColumn(0).getString(), q.getColumn(1).getInt(),
                      q.getColumn(2).getString(), q.getColumn(3).getString(), "", 0});
  }
  std::vector<audit::Finding> findings;
  auto defs = audit::DefinitionSet::load(stored, testing::audit_sections(), findings);
  REQUIRE(findings.empty());
  SQLite::Statement ev(
      db, "SELECT instance_id, type, body, at_ms FROM events ORDER BY instance_id, seq");
  std::map<std::string, std::pair<audit::FoldState, audit::FoldState>> folds;
  int events = 0;
  while (ev.executeStep()) {
    std::string id = ev.getColumn(0).getString();
    auto& [fast, slow] = folds[id];
    fast.state.id = slow.state.id = id;
    std::string type = ev.getColumn(1).getString(), body = ev.getColumn(2).getString();
    std::int64_t at = ev.getColumn(3).getInt64();
    INFO(id << " " << type << " " << body);
    REQUIRE_FALSE(audit::fold_event_text(fast, type, body, at, defs, testing::audit_hooks()));
    REQUIRE_FALSE(fold_reference(slow, type, body, at, defs));
    ++events;
  }
  CHECK(events > 80);
  // The fold also agrees, text against text, with every instance row the store wrote (verify's
  // fast comparison: data written field by field must be the store's JSON text byte for byte).
  SQLite::Statement rows(db,
                         "SELECT instance_id, workflow_id, version, state, lifecycle, data, extra, "
                         "coalesce(business_key, ''), created_ms, updated_ms FROM instances");
  int rows_compared = 0;
  while (rows.executeStep()) {
    const std::string id = rows.getColumn(0).getString();
    INFO(id);
    REQUIRE(folds.count(id) == 1);
    std::vector<std::string> text;
    for (int i : {0, 1, 3, 4, 5, 6, 7}) text.push_back(rows.getColumn(i).getString());
    audit::SnapshotText snap;
    snap.instance_id = text[0];
    snap.workflow_id = text[1];
    snap.version = rows.getColumn(2).getInt();
    snap.state = text[2];
    snap.lifecycle = text[3];
    snap.data = text[4];
    snap.extra = text[5];
    snap.business_key = text[6];
    snap.created_ms = rows.getColumn(8).getInt64();
    snap.updated_ms = rows.getColumn(9).getInt64();
    CHECK(audit::agrees_with_snapshot_text(folds[id].first, snap));
    ++rows_compared;
  }
  CHECK(rows_compared == static_cast<int>(folds.size()));
  for (const auto& [id, pair] : folds) {
    INFO(id);
    CHECK(to_snapshot(pair.first.state, *pair.first.workflow).data ==
          to_snapshot(pair.second.state, *pair.second.workflow).data);
    CHECK(pair.first.state.state == pair.second.state.state);
    CHECK(pair.first.state.lifecycle == pair.second.state.lifecycle);
    CHECK(pair.first.state.last_seq == pair.second.state.last_seq);
    CHECK(pair.first.state.extra == pair.second.state.extra);
  }
}

TEST_CASE("a transition read from text moves state and data like apply", "[audit][fold]") {
  same_as_apply(
      "transitioned",
      R"({"changes":{"impact":{"from":null,"to":"high"},"priority":{"from":null,"to":"P1"},)"
      R"("urgency":{"from":null,"to":"high"}},"event":"grade","from":"registered",)"
      R"("payload":{"impact":"high","urgency":"high"},"to":"graded","transition":0})",
      true);
}

TEST_CASE("escaped and non-ASCII text reads the same as with a full parse", "[audit][fold]") {
  same_as_apply(
      "data_changed",
      R"({"changes":{"assignee":{"from":null,"to":"Ren\u00e9e \"RB\" O\u2019Brien \ud83d\ude00 é\n"}}})",
      true);
}

TEST_CASE("long strings stop at each quote, escape, control character and non-ASCII byte",
          "[audit][fold]") {
  // Strings are scanned 16 bytes at a time: special characters well past the first 16 bytes.
  same_as_apply("data_changed",
                R"({"changes":{"assignee":{"from":"a plain name longer than sixteen bytes",)"
                R"("to":"a long name with \"quotes\" and é and \u00e9 past sixteen bytes"}}})",
                true);
  same_as_apply("data_changed",
                "{\"changes\":{\"assignee\":{\"to\":\"a plain prefix of thirty bytes\x01\"}}}",
                false);
  same_as_apply("data_changed",
                "{\"changes\":{\"assignee\":{\"to\":\"a plain prefix of thirty bytes\xff\"}}}",
                false);
  // The same in a member that is skipped.
  same_as_apply("data_changed",
                "{\"changes\":{\"assignee\":{\"from\":\"a plain prefix of thirty bytes\x01\","
                "\"to\":\"x\"}}}",
                false);
}

TEST_CASE("a cleared field (to null) reads the same as with a full parse", "[audit][fold]") {
  same_as_apply("data_changed", R"({"changes":{"escalations":{"from":0,"to":null}}})", true);
}

TEST_CASE("unusual bodies are left to the full parse and apply", "[audit][fold]") {
  // Duplicate keys, floating-point numbers, unknown fields, wrong types, invalid UTF-8, other
  // event types: the fast reader changes nothing.
  same_as_apply("transitioned", R"({"changes":{},"to":"graded","to":"classified"})", false);
  same_as_apply("data_changed", R"({"changes":{"escalations":{"to":1.5}}})", false);
  same_as_apply("data_changed", R"({"changes":{"no_such_field":{"to":1}}})", false);
  same_as_apply("data_changed", R"({"changes":{"escalations":{"to":"many"}}})", false);
  same_as_apply("data_changed", "{\"changes\":{\"assignee\":{\"to\":\"\xff\xfe\"}}}", false);
  same_as_apply("data_changed", R"({"changes":{"assignee":{"from":"a"}}})", false);
  same_as_apply("sla.started", R"({"clock":"response"})", false);
  same_as_apply("transitioned", R"({"changes":{},"to":"graded"} trailing)", false);
}

TEST_CASE("a lifecycle step apply refuses is left to apply", "[audit][fold]") {
  same_as_apply("resumed", R"({"state":"registered"})", false);  // resume while active
  same_as_apply("suspended", R"({"state":"registered","reason":"waiting"})", true);
}
