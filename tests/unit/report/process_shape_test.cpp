// What the report reads from a process definition: stage order, which endings are wins, tiers.
#include <catch2/catch.hpp>

#include "definition/loader.h"
#include "report/process_shape.h"
#include "unit/audit/audit_plugins.h"
#include "unit/report/shipped.h"

using namespace flowgate;
using flowgate::testing::shipped;

namespace {

std::string outcome(const report::ProcessShape& p, const std::string& state) {
  const report::StateShape* s = p.state(state);
  REQUIRE(s != nullptr);
  return s->outcome;
}

}  // namespace

TEST_CASE("LTC stages are ordered lead, opportunity, contract execution", "[report]") {
  auto ltc = shipped("ltc");
  CHECK(ltc.stages == std::vector<std::string>{"ML", "MO", "MCE"});
  CHECK(ltc.stage_of("negotiation") == 1);
  CHECK(ltc.stage_of("no_such_state") == -1);
}

TEST_CASE("only a closed contract is an LTC win; dropped, lost and withdrawn are losses",
          "[report]") {
  auto ltc = shipped("ltc");
  CHECK(outcome(ltc, "contract_closed") == "won");
  CHECK(outcome(ltc, "lead_dropped") == "lost");
  CHECK(outcome(ltc, "opportunity_lost") == "lost");
  CHECK(outcome(ltc, "opportunity_withdrawn") == "lost");
  CHECK(outcome(ltc, "delivery").empty());
}

TEST_CASE("an ITR request closed after handling is a win; cancelled and duplicate are not",
          "[report]") {
  auto itr = shipped("itr");
  CHECK(outcome(itr, "closed") == "won");
  CHECK(outcome(itr, "cancelled") == "lost");
  CHECK(outcome(itr, "duplicate") == "lost");
}

TEST_CASE("ITR handling states carry their support tier from the l<N>_ naming", "[report]") {
  auto itr = shipped("itr");
  CHECK(itr.state("l1_handling")->tier == 1);
  CHECK(itr.state("l2_handling")->tier == 2);
  CHECK(itr.state("l3_handling")->tier == 3);
  CHECK(itr.state("resolved")->tier == 0);
  CHECK(itr.in_last_stage_work("resolved"));
  CHECK_FALSE(itr.in_last_stage_work("closed"));
}

TEST_CASE("presales archives a finished engagement as a win and an abandoned one as a loss",
          "[report]") {
  auto presales = shipped("presales");
  CHECK(outcome(presales, "archived") == "won");
  CHECK(outcome(presales, "abandoned") == "lost");
}

TEST_CASE("a process with a single stage classifies no ending", "[report]") {
  auto loaded =
      load_workflow_file(std::string(FLOWGATE_SOURCE_DIR) + "/tests/fixtures/runtime/deal.toml",
                         testing::audit_sections());
  REQUIRE(loaded.ok());
  auto deal = report::process_shape(*loaded.workflow);
  CHECK(deal.stages == std::vector<std::string>{"MO"});
  CHECK(outcome(deal, "won").empty());
  CHECK(outcome(deal, "lost").empty());
}

TEST_CASE("a from-any transition is drawn from every non-terminal state", "[report]") {
  auto itr = shipped("itr");
  int into_cancelled = 0;
  for (const auto& e : itr.edges) into_cancelled += e.to == "cancelled" ? 1 : 0;
  int non_terminal = 0;
  for (const auto& s : itr.states) non_terminal += s.terminal ? 0 : 1;
  CHECK(into_cancelled == non_terminal);
}
