// The method table against a real engine on a temporary database: shapes of answers, parameter
// errors, permissions, actors, batches and idempotent retries. Runs synchronously (InlineExecutor).
#include <catch2/catch.hpp>

#include <memory>
#include <optional>
#include <string>

#include "definition/loader.h"
#include "definition/value.h"
#include "runtime/engine.h"
#include "server/dispatcher.h"
#include "support/temp_dir.h"

using namespace flowgate;
using namespace flowgate::server;
using flowgate::testing::TempDir;
using nlohmann::json;

namespace {

const SectionRegistry& no_sections() {
  static const SectionRegistry registry;
  return registry;
}

struct Fixture {
  TempDir dir;
  std::shared_ptr<Clock> clock;
  std::unique_ptr<Engine> engine;
  InlineExecutor executor;
  ServerStats stats;
  std::unique_ptr<Dispatcher> dispatcher;
  Principal owner;

  explicit Fixture(bool simulated = false) {
    auto catalog = std::make_shared<Catalog>();
    LoadResult wf = load_workflow_file(
        std::string(FLOWGATE_SOURCE_DIR) + "/tests/fixtures/runtime/deal.toml", no_sections());
    REQUIRE(wf.ok());
    catalog->add(wf.workflow);
    if (simulated) {
      clock = std::make_shared<SimulatedClock>(*parse_datetime_ms("2026-03-02T09:00:00Z"));
    } else {
      clock = std::make_shared<SystemClock>();
    }
    EngineOptions o;
    o.db_path = dir.file("d.db");
    o.run_scheduler = !simulated;
    auto e = Engine::open(o, catalog, clock, no_sections());
    REQUIRE(e);
    engine = std::move(*e);
    dispatcher = std::make_unique<Dispatcher>(*engine, executor, no_sections(), stats,
                                              ServerInfo{"test", o.db_path, "", ""});
    owner.user = "owner";
    owner.owner = owner.trusted = owner.all_roles = true;
    owner.methods = {"*"};
  }

  // One line in, the answer out (parsed), as `who`.
  json line(const std::string& text, const Principal& who) {
    std::optional<std::string> answer;
    dispatcher->dispatch_line(who, nullptr, text, [&](std::string a) { answer = std::move(a); });
    REQUIRE(answer);
    if (answer->empty()) return nullptr;
    return json::parse(*answer);
  }
  json call(const std::string& method, json params, const Principal& who) {
    json req = {{"jsonrpc", "2.0"}, {"id", 1}, {"method", method}, {"params", std::move(params)}};
    return line(req.dump(), who);
  }
  json call(const std::string& method, json params) {
    return call(method, std::move(params), owner);
  }
};

Principal user(std::string name, std::vector<std::string> roles, std::vector<std::string> methods,
               bool trusted = false) {
  Principal p;
  p.user = std::move(name);
  p.roles = std::move(roles);
  p.methods = std::move(methods);
  p.trusted = trusted;
  return p;
}

}  // namespace

TEST_CASE("instance.start answers the new instance with its id, version, state and data",
          "[dispatch]") {
  Fixture f;
  json r = f.call("instance.start", {{"workflow", "deal"}, {"data", {{"customer", "Acme"}}}});
  REQUIRE(r.contains("result"));
  json v = r["result"];
  CHECK(v["instance_id"] == "deal-1");
  CHECK(v["workflow"] == "deal");
  CHECK(v["version"] == 1);
  CHECK(v["state"] == "open");
  CHECK(v["lifecycle"] == "active");
  CHECK(v["data"]["customer"] == "Acme");
  CHECK(v["events"][0]["type"] == "instance_started");
}

TEST_CASE("instance.fire moves the instance and instance.get shows what is allowed next",
          "[dispatch]") {
  Fixture f;
  f.call("instance.start", {{"workflow", "deal"}, {"data", {{"customer", "Acme"}}}});
  json r = f.call("instance.fire", {{"instance_id", "deal-1"},
                                    {"event", "quote"},
                                    {"payload", {{"amount", "5000.00"}}},
                                    {"expect_version", 1}});
  REQUIRE(r.contains("result"));
  CHECK(r["result"]["state"] == "quoted");
  CHECK(r["result"]["version"] == 2);
  json g = f.call("instance.get", {{"instance_id", "deal-1"}});
  CHECK(g["result"]["allowed_events"] == json({"close", "lose", "requote"}));
}

TEST_CASE("an engine refusal is answered with its stable code and data", "[dispatch]") {
  Fixture f;
  f.call("instance.start", {{"workflow", "deal"}, {"data", {{"customer", "Acme"}}}});
  json r = f.call("instance.fire", {{"instance_id", "deal-1"}, {"event", "approve"}});
  REQUIRE(r.contains("error"));
  CHECK(r["error"]["code"] == 204);
  CHECK(r["error"]["data"]["name"] == "event_not_allowed");

  r = f.call("instance.fire", {{"instance_id", "deal-1"},
                               {"event", "quote"},
                               {"payload", {{"amount", "1"}}},
                               {"expect_version", 5}});
  CHECK(r["error"]["code"] == 302);
  CHECK(r["error"]["data"]["current_version"] == 1);
}

TEST_CASE("wrong parameter types and unknown parameters are invalid params", "[dispatch]") {
  Fixture f;
  json r = f.call("instance.fire", {{"instance_id", 12}, {"event", "quote"}});
  CHECK(r["error"]["code"] == kInvalidParams);
  CHECK(r["error"]["message"] == "`instance_id` must be a string (got integer)");
  r = f.call("instance.get", {{"instance_id", "deal-1"}, {"verbose", true}});
  CHECK(r["error"]["code"] == kInvalidParams);
  CHECK(r["error"]["message"] == "unknown parameter `verbose`");
  r = f.call("instance.update", {{"instance_id", "deal-1"}});
  CHECK(r["error"]["code"] == kInvalidParams);
}

TEST_CASE("an unknown method is answered with a suggestion", "[dispatch]") {
  Fixture f;
  json r = f.call("instance.fier", json::object());
  CHECK(r["error"]["code"] == kMethodNotFound);
  CHECK(r["error"]["data"]["hint"] == "did you mean `instance.fire`?");
}

TEST_CASE("a caller without the method is forbidden, naming the permission", "[dispatch]") {
  Fixture f;
  Principal reader = user("ria", {}, {"instance.get"});
  json r =
      f.call("instance.start", {{"workflow", "deal"}, {"data", {{"customer", "Acme"}}}}, reader);
  CHECK(r["error"]["code"] == 301);
  CHECK(r["error"]["data"]["missing_permission"] == "instance.start");
  CHECK(r["error"]["data"]["principal"] == "ria");
}

TEST_CASE("a caller without the transition's role is refused by the engine with the roles",
          "[dispatch]") {
  Fixture f;
  f.call("instance.start", {{"workflow", "deal"}, {"data", {{"customer", "Acme"}}}});
  Principal ar = user("ann", {"AR"}, {"instance.*"});
  json r =
      f.call("instance.fire",
             {{"instance_id", "deal-1"}, {"event", "quote"}, {"payload", {{"amount", "1"}}}}, ar);
  CHECK(r["error"]["code"] == 301);
  CHECK(r["error"]["data"]["name"] == "forbidden");
}

TEST_CASE("only trusted principals may act for someone else; history keeps the verified one",
          "[dispatch]") {
  Fixture f;
  Principal ann = user("ann", {"AR"}, {"instance.*"});
  json r = f.call("instance.start",
                  {{"workflow", "deal"}, {"data", {{"customer", "Acme"}}}, {"on_behalf_of", "bob"}},
                  ann);
  CHECK(r["error"]["code"] == 301);
  CHECK(r["error"]["message"].get<std::string>().find("not trusted") != std::string::npos);

  Principal crm = user("crm", {}, {"instance.*"}, /*trusted=*/true);
  r = f.call("instance.start",
             {{"workflow", "deal"},
              {"data", {{"customer", "Acme"}}},
              {"actor", {{"user", "sven"}, {"roles", {"SR"}}}}},
             crm);
  REQUIRE(r.contains("result"));
  r = f.call("instance.fire",
             {{"instance_id", "deal-1"},
              {"event", "quote"},
              {"payload", {{"amount", "10.00"}}},
              {"actor", {{"user", "sven"}, {"roles", {"SR"}}}}},
             crm);
  REQUIRE(r.contains("result"));
  json h = f.call("instance.history", {{"instance_id", "deal-1"}});
  json actor = h["result"]["events"][1]["actor"];
  CHECK(actor["principal"] == "crm");
  CHECK(actor["on_behalf_of"] == "sven");
  CHECK(actor["roles"] == json({"SR"}));
}

TEST_CASE("a retry with the same request_id is answered from the first time", "[dispatch]") {
  Fixture f;
  json params = {{"workflow", "deal"}, {"data", {{"customer", "Acme"}}}, {"request_id", "crm-1"}};
  json first = f.call("instance.start", params);
  json again = f.call("instance.start", params);
  CHECK(first["result"]["instance_id"] == "deal-1");
  CHECK(again["result"]["instance_id"] == "deal-1");
  CHECK_FALSE(first["result"].contains("replayed"));
  CHECK(again["result"]["replayed"] == true);
  json list = f.call("instance.list", json::object());
  CHECK(list["result"]["instances"].size() == 1);
}

TEST_CASE("a batch is answered with one array in request order, notifications left out",
          "[dispatch]") {
  Fixture f;
  json r = f.line(R"([{"jsonrpc":"2.0","id":"a","method":"server.health"},)"
                  R"({"jsonrpc":"2.0","method":"server.health"},)"
                  R"({"jsonrpc":"2.0","id":"b","method":"nope"}, 7])",
                  f.owner);
  REQUIRE(r.is_array());
  REQUIRE(r.size() == 3);
  CHECK(r[0]["id"] == "a");
  CHECK(r[0]["result"]["status"] == "ok");
  CHECK(r[1]["error"]["code"] == kMethodNotFound);
  CHECK(r[2]["error"]["code"] == kInvalidRequest);
  CHECK(f.line(R"([{"jsonrpc":"2.0","method":"server.health"}])", f.owner).is_null());
}

TEST_CASE("the clock can be advanced only when it is simulated", "[dispatch]") {
  Fixture system_clock;
  json r = system_clock.call("clock.advance", {{"by", "1h"}});
  CHECK(r["error"]["code"] == 100);

  Fixture f(/*simulated=*/true);
  r = f.call("clock.advance", {{"by", "2h30m"}});
  CHECK(r["result"]["now"] == "2026-03-02T11:30:00Z");
  r = f.call("clock.advance", {{"to", "2026-03-03T09:00:00Z"}});
  CHECK(r["result"]["now"] == "2026-03-03T09:00:00Z");
  r = f.call("clock.now", json::object());
  CHECK(r["result"]["now"] == "2026-03-03T09:00:00Z");
  r = f.call("clock.advance", {{"by", "2h"}, {"to", "2026-03-04T09:00:00Z"}});
  CHECK(r["error"]["code"] == kInvalidParams);
  r = f.call("clock.advance", {{"by", "soon"}});
  CHECK(r["error"]["code"] == kInvalidParams);
  r = f.call("clock.advance", {{"to", "2026-03-01T09:00:00Z"}});
  CHECK(r["error"]["code"] == 100);  // backwards
}

TEST_CASE("workflow.list, get and validate describe the process files", "[dispatch]") {
  Fixture f;
  json r = f.call("workflow.list", json::object());
  REQUIRE(r["result"]["workflows"].size() == 1);
  CHECK(r["result"]["workflows"][0]["id"] == "deal");
  CHECK(r["result"]["workflows"][0]["versions"] == json({1}));
  r = f.call("workflow.get", {{"id", "deal"}});
  CHECK(r["result"]["states"].size() == 5);
  CHECK(r["result"]["transitions"][1]["guard"] == "data.amount >= 100000");
  r = f.call("workflow.get", {{"id", "nope"}});
  CHECK(r["error"]["code"] == 201);
  r = f.call("workflow.validate", {{"source", "[workflow]\nid = 1\n"}});
  CHECK(r["result"]["ok"] == false);
  CHECK_FALSE(r["result"]["diagnostics"].empty());
}

TEST_CASE("workflow.load adds a new version that new instances start on", "[dispatch]") {
  Fixture f;
  LoadResult v2 = load_workflow_file(
      std::string(FLOWGATE_SOURCE_DIR) + "/tests/fixtures/runtime/deal_v2.toml", no_sections());
  REQUIRE(v2.ok());
  json r = f.call("workflow.load", {{"source", v2.workflow->source_text}});
  REQUIRE(r.contains("result"));
  CHECK(r["result"]["added"] == true);
  CHECK(r["result"]["version"] == 2);
  r = f.call("workflow.load", {{"source", v2.workflow->source_text}});
  CHECK(r["result"]["added"] == false);
  r = f.call("workflow.load", {{"source", "not toml ["}});
  CHECK(r["error"]["code"] == 101);
  CHECK_FALSE(r["error"]["data"]["diagnostics"].empty());
}

TEST_CASE("a plugin method is one line and reaches the engine as a plugin command", "[dispatch]") {
  Fixture f;
  f.dispatcher->add_plugin_method("gate.vote", "gate", "vote");
  f.call("instance.start", {{"workflow", "deal"}, {"data", {{"customer", "Acme"}}}});
  json r = f.call("gate.vote", {{"instance_id", "deal-1"}, {"decision", "go"}});
  REQUIRE(r.contains("error"));
  CHECK(r["error"]["code"] == 100);
  CHECK(r["error"]["message"] == "no plugin `gate` is loaded");
}

TEST_CASE("server.stats counts requests and errors", "[dispatch]") {
  Fixture f;
  f.call("server.health", json::object());
  f.call("nope", json::object());
  json r = f.call("server.stats", json::object());
  CHECK(r["result"]["requests"] == 2);
  CHECK(r["result"]["errors"] == 1);
  CHECK(r["result"]["latency"]["samples"] == 2);
  CHECK(r["result"].contains("queue_depth"));
}
