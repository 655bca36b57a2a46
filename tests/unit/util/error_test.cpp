#include <catch2/catch.hpp>

#include "util/diagnostic.h"
#include "util/error.h"

using namespace flowgate;

TEST_CASE("an error renders as a CLI line with its stable name and hint", "[util]") {
  Error e =
      Error(ErrorCode::kGuardFailed, "guard `amount > 0` is false").with_hint("raise the amount");
  CHECK(e.to_string() ==
        "error[guard_failed]: guard `amount > 0` is false\n  hint: raise the amount");
}

TEST_CASE("an error renders as a JSON-RPC error object with code, message and data", "[util]") {
  Error e = Error(ErrorCode::kEventNotAllowed, "no transition").with_data("allowed", {"a", "b"});
  auto j = e.to_json();
  CHECK(j["code"] == 204);
  CHECK(j["message"] == "no transition");
  CHECK(j["data"]["name"] == "event_not_allowed");
  CHECK(j["data"]["allowed"] == nlohmann::json({"a", "b"}));
}

TEST_CASE("a diagnostic renders as file:line:col: severity[RULE]: message", "[util]") {
  Diagnostics d;
  d.warning("LINT-UNUSED-FIELD", {"a.toml", 3, 1}, "field `x` is never used");
  d.error("STATE-UNKNOWN", {"a.toml", 2, 7}, "unknown state `lsot`", "did you mean `lost`?");
  d.sort();
  REQUIRE(d.items().size() == 2);
  CHECK(d.items()[0].to_string() ==
        "a.toml:2:7: error[STATE-UNKNOWN]: unknown state `lsot`\n  hint: did you mean `lost`?");
  CHECK(d.error_count() == 1);
  CHECK(d.warning_count() == 1);
  CHECK(d.has_errors());
}

TEST_CASE("closest_match suggests near names and nothing for far ones", "[util]") {
  std::vector<std::string> names = {"qualified", "lost", "won"};
  CHECK(closest_match("lsot", names) == "lost");
  CHECK(closest_match("qualifed", names) == "qualified");
  CHECK(closest_match("completely_different", names).empty());
}
