// `flowgate call` and the CLI verbs with --socket against the real server: the same answers as
// on a database file, and the documented exit statuses.
#include <catch2/catch.hpp>

#include "server_support.h"

using namespace flowgate::testing;

namespace {

ProcessResult fg(std::vector<std::string> args) {
  args.insert(args.begin(), FLOWGATE_BINARY);
  return run_process(args);
}

}  // namespace

TEST_CASE("flowgate call prints the result and fails with the engine's exit status",
          "[server][cli]") {
  TempDir dir;
  ServerProcess s(dir);
  REQUIRE(s.start());
  auto r = fg({"call", "server.health", "--socket", s.socket});
  REQUIRE(r.status == 0);
  CHECK(Json::parse(r.out)["status"] == "ok");
  r = fg({"call", "instance.get", R"({"instance_id":"deal-9"})", "--socket", s.socket});
  CHECK(r.status == 1);
  CHECK(r.err.find("error[instance_not_found]") != std::string::npos);
  r = fg({"call", "instance.get", "{not json", "--socket", s.socket});
  CHECK(r.status == 2);
  r = fg({"call", "server.health", "--socket", dir.file("missing.sock")});
  CHECK(r.status == 3);
  CHECK(r.err.find("is `flowgate serve` running") != std::string::npos);
}

TEST_CASE("the CLI verbs work through --socket as they do on a database file", "[server][cli]") {
  TempDir dir;
  ServerProcess s(dir);
  REQUIRE(s.start());
  auto r = fg({"start", "--socket", s.socket, "deal", "--data", R"({"customer":"Acme"})", "--key",
               "CRM-1", "--as", "AR,SR:ann", "--format", "json"});
  INFO(r.err);
  REQUIRE(r.status == 0);
  Json started = Json::parse(r.out);
  CHECK(started["instance_id"] == "deal-1");
  CHECK_FALSE(started.contains("events"));
  r = fg({"fire", "--socket", s.socket, "deal-1", "quote", "--payload", R"({"amount":"5000.00"})",
          "--as", "SR:sven", "--expect-version", "1", "--request-id", "r-1", "--format", "json"});
  REQUIRE(r.status == 0);
  CHECK(Json::parse(r.out)["state"] == "quoted");
  r = fg({"fire", "--socket", s.socket, "deal-1", "quote", "--as", "SR:sven"});
  CHECK(r.status == 1);
  CHECK(r.err.find("event_not_allowed") != std::string::npos);
  r = fg({"show", "--socket", s.socket, "deal-1", "--format", "json"});
  REQUIRE(r.status == 0);
  CHECK(Json::parse(r.out)["allowed_events"] == Json({"close", "lose", "requote"}));
  r = fg({"list", "--socket", s.socket, "--format", "jsonl"});
  REQUIRE(r.status == 0);
  CHECK(Json::parse(r.out)["business_key"] == "CRM-1");
  r = fg({"history", "--socket", s.socket, "deal-1"});
  REQUIRE(r.status == 0);
  CHECK(r.out.find("open → quoted") != std::string::npos);
  CHECK(r.out.find("root for sven (SR)") != std::string::npos);
  r = fg({"history", "--socket", s.socket, "deal-1", "--format", "json"});
  REQUIRE(r.status == 0);
  CHECK(Json::parse(r.out)[1]["request_id"] == "r-1");
}

TEST_CASE("a verb needs exactly one of --db and --socket", "[server][cli]") {
  auto r = fg({"show", "deal-1"});
  CHECK(r.status == 2);
  CHECK(r.err.find("give either --db") != std::string::npos);
  r = fg({"show", "deal-1", "--db", "x.db", "--socket", "x.sock"});
  CHECK(r.status == 2);
}

TEST_CASE("flowgate call streams events.watch as JSON lines", "[server][cli]") {
  TempDir dir;
  ServerProcess s(dir);
  REQUIRE(s.start());
  REQUIRE(s.client().call("instance.start", {{"workflow", "deal"}, {"data", {{"customer", "A"}}}}));
  auto r = fg({"call", "events.watch", R"({"after":0})", "--socket", s.socket, "--count", "1",
               "--format", "jsonl"});
  REQUIRE(r.status == 0);
  auto nl = r.out.find('\n');
  CHECK(Json::parse(r.out.substr(0, nl))["after"] == 0);
  Json event = Json::parse(r.out.substr(nl + 1));
  CHECK(event["method"] == "events.event");
  CHECK(event["params"]["event"]["type"] == "instance_started");
}
