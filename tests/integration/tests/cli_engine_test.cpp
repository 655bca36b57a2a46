// The embedded-engine verbs of the real `flowgate` binary: shapes of the JSON output, exit
// statuses, and bad input on the command line.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "support/process.h"
#include "support/temp_dir.h"

using flowgate::testing::run_process;
using flowgate::testing::TempDir;
using nlohmann::json;

namespace {

struct Cli {
  TempDir dir;
  std::string db = dir.file("cli.db");
  std::string workflows;

  Cli() {
    // Only version 1 of the deal fixture, so `start` picks it.
    workflows = dir.file("workflows");
    std::filesystem::create_directories(workflows);
    std::filesystem::copy_file(
        std::string(FLOWGATE_SOURCE_DIR) + "/tests/fixtures/runtime/deal.toml",
        workflows + "/deal.toml");
  }
  flowgate::testing::ProcessResult run(std::vector<std::string> args) {
    args.insert(args.begin(), FLOWGATE_BINARY);
    return run_process(args);
  }
  flowgate::testing::ProcessResult mutate(std::string verb, std::vector<std::string> args) {
    std::vector<std::string> all = {verb, "--db", db, "--workflows", workflows, "--format", "json"};
    all.insert(all.end(), args.begin(), args.end());
    return run(all);
  }
};

}  // namespace

TEST_CASE("flowgate start prints the new instance as JSON", "[cli]") {
  Cli cli;
  auto r = cli.mutate(
      "start", {"deal", "--data", R"({"customer": "Acme"})", "--key", "CRM-1", "--as", "AR:ann"});
  INFO(r.err);
  REQUIRE(r.status == 0);
  json j = json::parse(r.out);
  CHECK(j["instance_id"] == "deal-1");
  CHECK(j["state"] == "open");
  CHECK(j["version"] == 1);
  CHECK(j["workflow_version"] == 1);
  CHECK(j["business_key"] == "CRM-1");
}

TEST_CASE("flowgate fire moves the instance and history shows the timeline", "[cli]") {
  Cli cli;
  REQUIRE(cli.mutate("start", {"deal", "--data", R"({"customer": "Acme"})"}).status == 0);
  auto quoted = cli.mutate("fire", {"deal-1", "quote", "--payload", R"({"amount": "5000"})", "--as",
                                    "SR:sam", "--expect-version", "1"});
  INFO(quoted.err);
  REQUIRE(quoted.status == 0);
  json j = json::parse(quoted.out);
  CHECK(j["state"] == "quoted");
  CHECK(j["lifecycle"] == "active");
  CHECK(j["data"]["amount"] == "5000.00");

  auto hist = cli.run({"history", "--db", cli.db, "deal-1"});
  REQUIRE(hist.status == 0);
  CHECK_THAT(hist.out, Catch::Contains("open → quoted"));
  CHECK_THAT(hist.out, Catch::Contains("sam"));
  CHECK_THAT(hist.out, Catch::Contains("amount: - → 5000.00"));

  auto jsonl = cli.run({"history", "--db", cli.db, "deal-1", "--format", "jsonl"});
  REQUIRE(jsonl.status == 0);
  CHECK(std::count(jsonl.out.begin(), jsonl.out.end(), '\n') == 2);

  auto list = cli.run({"list", "--db", cli.db, "--state", "quoted", "--format", "json"});
  REQUIRE(list.status == 0);
  CHECK(json::parse(list.out).size() == 1);
}

TEST_CASE("an engine refusal exits 1 with the error code and message on stderr", "[cli]") {
  Cli cli;
  REQUIRE(cli.mutate("start", {"deal", "--data", R"({"customer": "Acme"})"}).status == 0);
  auto r = cli.mutate("fire", {"deal-1", "approve", "--as", "director:dora"});
  CHECK(r.status == 1);
  CHECK_THAT(r.err, Catch::Contains("event_not_allowed"));
  CHECK_THAT(r.err, Catch::Contains("lose, quote"));
  auto forbidden =
      cli.mutate("fire", {"deal-1", "quote", "--payload", R"({"amount": "5"})", "--as", "AR:ann"});
  CHECK(forbidden.status == 1);
  CHECK_THAT(forbidden.err, Catch::Contains("forbidden"));
  auto stale = cli.mutate("fire", {"deal-1", "quote", "--payload", R"({"amount": "5"})", "--as",
                                   "SR", "--expect-version", "9"});
  CHECK(stale.status == 1);
  CHECK_THAT(stale.err, Catch::Contains("version_conflict"));
}

TEST_CASE("a retried request id is answered once", "[cli]") {
  Cli cli;
  auto a =
      cli.mutate("start", {"deal", "--data", R"({"customer": "Acme"})", "--request-id", "crm-77"});
  auto b =
      cli.mutate("start", {"deal", "--data", R"({"customer": "Acme"})", "--request-id", "crm-77"});
  REQUIRE(a.status == 0);
  REQUIRE(b.status == 0);
  CHECK(json::parse(a.out) == json::parse(b.out));
  auto list = cli.run({"list", "--db", cli.db, "--format", "json"});
  CHECK(json::parse(list.out).size() == 1);
}

TEST_CASE("usage errors exit 2", "[cli]") {
  Cli cli;
  CHECK(cli.run({"start"}).status == 2);
  CHECK(cli.run({"no-such-verb"}).status == 2);
  CHECK(cli.mutate("start", {"deal", "--data", "{not json"}).status == 2);
  CHECK(cli.mutate("start", {"deal", "--data", "[1,2]"}).status == 2);
  CHECK(cli.mutate("fire", {"deal-1"}).status == 2);
  CHECK(cli.run({"list", "--db", cli.db, "--limit", "-4"}).status == 2);
  CHECK(cli.run({"list", "--db", cli.db, "--format", "xml"}).status == 2);
}

TEST_CASE("storage errors exit 3 and never overwrite a foreign file", "[cli]") {
  Cli cli;
  std::string notes = cli.dir.file("notes.txt");
  std::ofstream(notes) << "not a database";
  auto r = cli.run({"start", "--db", notes, "--workflows", cli.workflows, "deal"});
  CHECK(r.status == 3);
  CHECK_THAT(r.err, Catch::Contains("not_a_database"));
  std::ifstream in(notes);
  std::string content((std::istreambuf_iterator<char>(in)), {});
  CHECK(content == "not a database");
  auto missing = cli.run({"show", "--db", cli.dir.file("missing.db"), "deal-1"});
  CHECK(missing.status == 3);
  CHECK_FALSE(std::filesystem::exists(cli.dir.file("missing.db")));
}

TEST_CASE("an unknown instance or workflow is a refusal, not a crash", "[cli]") {
  Cli cli;
  CHECK(cli.mutate("start", {"nope"}).status == 1);
  REQUIRE(cli.mutate("start", {"deal", "--data", R"({"customer": "Acme"})"}).status == 0);
  CHECK(cli.run({"show", "--db", cli.db, "deal-42"}).status == 1);
  CHECK(cli.run({"history", "--db", cli.db, "deal-42"}).status == 1);
}

TEST_CASE("suspend, resume and cancel record reasons in the history", "[cli]") {
  Cli cli;
  REQUIRE(cli.mutate("start", {"deal", "--data", R"({"customer": "Acme"})"}).status == 0);
  REQUIRE(cli.mutate("suspend", {"deal-1", "--reason", "customer on holiday"}).status == 0);
  auto refused = cli.mutate("fire", {"deal-1", "quote", "--payload", R"({"amount": "5"})"});
  CHECK(refused.status == 1);
  CHECK_THAT(refused.err, Catch::Contains("resume it first"));
  REQUIRE(cli.mutate("resume", {"deal-1"}).status == 0);
  auto cancelled = cli.mutate("cancel", {"deal-1", "--reason", "duplicate"});
  REQUIRE(cancelled.status == 0);
  CHECK(json::parse(cancelled.out)["lifecycle"] == "cancelled");
  auto hist = cli.run({"history", "--db", cli.db, "deal-1"});
  CHECK_THAT(hist.out, Catch::Contains("customer on holiday"));
  CHECK_THAT(hist.out, Catch::Contains("duplicate"));
}
