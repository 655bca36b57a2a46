// `flowgate test` and `flowgate simulate` as ops teams run them: the shipped suites pass, a broken
// copy of a workflow fails a named scenario with a readable diff, bad scenario files get
// diagnostics, and a simulation's report agrees with what `flowgate list` finds in its database.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include <nlohmann/json.hpp>

#include "support/process.h"
#include "support/temp_dir.h"

using flowgate::testing::ProcessResult;
using flowgate::testing::run_process;
using flowgate::testing::TempDir;
using nlohmann::json;

namespace {

const std::string kSource = FLOWGATE_SOURCE_DIR;

ProcessResult flowgate_cli(std::vector<std::string> args) {
  args.insert(args.begin(), FLOWGATE_BINARY);
  return run_process(args);
}

std::string read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
}

std::vector<std::string> shipped_suites() {
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(kSource + "/workflows/tests")) {
    if (e.path().extension() == ".toml") files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string last_line(const std::string& text) {
  auto end = text.find_last_not_of('\n');
  auto start = text.rfind('\n', end);
  return text.substr(start == std::string::npos ? 0 : start + 1,
                     end - (start == std::string::npos ? 0 : start + 1) + 1);
}

}  // namespace

TEST_CASE("the shipped scenario suites pass with full coverage", "[integration][scenario]") {
  std::vector<std::string> args = {"test", "--coverage", "--require-full-coverage"};
  auto files = shipped_suites();
  REQUIRE(files.size() == 3);
  args.insert(args.end(), files.begin(), files.end());
  auto r = flowgate_cli(args);
  INFO(r.out << r.err);
  CHECK(r.status == 0);
  CHECK(r.out.find("FAIL") == std::string::npos);
  CHECK(r.out.find("transitions       34/34   100%") != std::string::npos);
  CHECK(std::regex_search(last_line(r.out), std::regex("^[1-9][0-9]* passed, 0 failed$")));
}

TEST_CASE("a wrong OLA target in a copy of itr.toml fails a named scenario with a diff",
          "[integration][scenario]") {
  TempDir dir;
  std::string itr = read(kSource + "/workflows/itr.toml");
  // [ola.l1]: L1 diagnoses within 2 business hours; the broken copy says 8.
  auto at = itr.find("[ola.l1]");
  REQUIRE(at != std::string::npos);
  auto target = itr.find("target = \"2h\"", at);
  REQUIRE(target != std::string::npos);
  itr.replace(target, std::string("target = \"2h\"").size(), "target = \"8h\"");
  write(dir.file("itr.toml"), itr);
  std::filesystem::create_directories(dir.file("tests"));
  std::filesystem::copy_file(kSource + "/workflows/tests/itr.toml", dir.file("tests/itr.toml"));

  auto r = flowgate_cli({"test", dir.file("tests/itr.toml")});
  INFO(r.out << r.err);
  CHECK(r.status == 1);
  CHECK(r.out.find("FAIL  " + dir.file("tests/itr.toml") +
                   ": P3 by hotline: the L1 OLA breach escalates to L2") != std::string::npos);
  CHECK(r.out.find("step 7 `fire dispatch`") != std::string::npos);
  CHECK(r.out.find("    - clocks.l1.target = \"2h\"\n    + clocks.l1.target = \"8h\"") !=
        std::string::npos);
  CHECK(r.out.find("- clocks.l1.planned_breach_at = \"2026-03-09T10:00:00Z\"") !=
        std::string::npos);
  CHECK(std::regex_search(last_line(r.out), std::regex("^[0-9]+ passed, [1-9][0-9]* failed$")));
}

TEST_CASE("bad scenario files get a diagnostic with file, line and column, and exit 1",
          "[integration][scenario]") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"toml_error.toml", "SCENARIO-TOML"},
      {"unknown_workflow.toml", "SCENARIO-WORKFLOW"},
      {"unknown_state.toml", "SCENARIO-STATE-UNKNOWN"},
      {"unknown_event.toml", "SCENARIO-EVENT-UNKNOWN"},
      {"unknown_role.toml", "SCENARIO-ROLE-UNKNOWN"},
      {"unknown_field.toml", "SCENARIO-FIELD-UNKNOWN"},
      {"wrong_type.toml", "SCENARIO-VALUE-TYPE"},
      {"clock_backwards.toml", "SCENARIO-CLOCK-BACKWARDS"},
  };
  for (const auto& [file, rule] : cases) {
    std::string path = "tests/fixtures/scenario/" + file;
    auto r = run_process({FLOWGATE_BINARY, "test", kSource + "/" + path});
    INFO(file << "\n" << r.out << r.err);
    CHECK(r.status == 1);
    CHECK(std::regex_search(
        r.err, std::regex(kSource + "/" + path + ":[0-9]+:[0-9]+: error\\[" + rule + "\\]: ")));
    CHECK(last_line(r.out) == "0 passed, 0 failed");
  }
}

TEST_CASE("--coverage lists what is left; --require-full-coverage makes it fail",
          "[integration][scenario]") {
  std::string partial = kSource + "/tests/fixtures/scenario/partial.toml";
  auto r = flowgate_cli({"test", "--coverage", partial});
  INFO(r.out << r.err);
  CHECK(r.status == 0);
  CHECK(r.out.find("not exercised:") != std::string::npos);
  CHECK(r.out.find("#12 dispatch: ready_for_dispatch -> l2_handling") != std::string::npos);
  CHECK(r.out.find("response: breached") != std::string::npos);
  auto strict = flowgate_cli({"test", "--require-full-coverage", partial});
  CHECK(strict.status == 1);
  CHECK(last_line(strict.out) == "1 passed, 0 failed");
}

TEST_CASE("a simulation's report agrees with the instances in its database",
          "[integration][simulate]") {
  TempDir dir;
  std::string db = dir.file("sim.db");
  auto r = flowgate_cli({"simulate", kSource + "/workflows/itr.toml", "--instances", "300",
                         "--seed", "9", "--db", db, "--format", "json", "--quiet", "--config",
                         kSource + "/tests/fixtures/scenario/simulation.toml"});
  INFO(r.err);
  REQUIRE(r.status == 0);
  json report = json::parse(r.out);
  CHECK(report["consistent"] == true);
  std::map<std::string, std::int64_t> reached;
  for (const auto& row : report["funnel"]) reached[row["state"]] = row["reached"];
  CHECK(reached["registered"] == 300);
  std::int64_t total = 0;
  for (const char* part : {"terminal", "open"}) {
    for (const auto& [state, n] : report["outcomes"][part].items()) {
      total += n.get<std::int64_t>();
      auto listed = flowgate_cli({"list", "--db", db, "--workflow", "itr", "--state", state,
                                  "--limit", "10000", "--format", "json"});
      REQUIRE(listed.status == 0);
      INFO(state);
      CHECK(static_cast<std::int64_t>(json::parse(listed.out).size()) == n.get<std::int64_t>());
      if (std::string(part) == "terminal") CHECK(reached[state] == n.get<std::int64_t>());
    }
  }
  CHECK(total == 300);
  CHECK_FALSE(report["sla"].empty());
}

TEST_CASE("simulate refuses a bad simulation file and an existing database",
          "[integration][simulate]") {
  auto bad = flowgate_cli({"simulate", kSource + "/workflows/itr.toml", "--config",
                           kSource + "/tests/fixtures/scenario/bad_simulation.toml"});
  CHECK(bad.status == 1);
  CHECK(bad.err.find("bad_simulation.toml:5:1: error[SIMULATION-NAME-UNKNOWN]") !=
        std::string::npos);
  TempDir dir;
  write(dir.file("taken.db"), "x");
  auto taken =
      flowgate_cli({"simulate", kSource + "/workflows/itr.toml", "--db", dir.file("taken.db")});
  CHECK(taken.status == 2);
}
