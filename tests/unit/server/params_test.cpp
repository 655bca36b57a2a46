// Typed request parameters: each problem names the parameter and what it expects.
#include <catch2/catch.hpp>

#include "server/params.h"

using namespace flowgate::server;
using nlohmann::json;

TEST_CASE("an unknown parameter is refused by name", "[params]") {
  json j = {{"instance", "deal-1"}};
  Params p(j);
  (void)p.string("instance_id");
  auto e = p.finish();
  REQUIRE(e);
  CHECK(e->code == kInvalidParams);
  CHECK(e->message == "unknown parameter `instance`");
  CHECK(e->data["parameters"][0] == "instance_id");
}

TEST_CASE("a parameter of the wrong type names the expected and the given type", "[params]") {
  json j = {{"expect_version", "3"}};
  Params p(j);
  CHECK_FALSE(p.integer("expect_version", 0));
  auto e = p.finish();
  REQUIRE(e);
  CHECK(e->message == "`expect_version` must be an integer (got string)");
}

TEST_CASE("a missing required string is named", "[params]") {
  json j = json::object();
  Params p(j);
  CHECK(p.required_string("instance_id").empty());
  REQUIRE(p.finish());
  CHECK(p.finish()->message == "missing parameter `instance_id` (a string)");
}

TEST_CASE("integers out of range and huge unsigned values are refused", "[params]") {
  json j = {{"limit", 0}, {"after", 18446744073709551615ull}};
  Params p(j);
  CHECK_FALSE(p.integer("limit", 1, 10000));
  REQUIRE(p.finish());
  CHECK(p.finish()->message == "`limit` must be between 1 and 10000");

  Params q(j);
  CHECK_FALSE(q.integer("after", 0));
  (void)q.integer("limit");
  REQUIRE(q.finish());
  CHECK(q.finish()->message.find("`after` must be at most") == 0);
}

TEST_CASE("null counts as absent and well-typed params pass", "[params]") {
  json j = {{"reason", nullptr}, {"data", {{"a", 1}}}, {"types", {"x", "y"}}};
  Params p(j);
  CHECK_FALSE(p.string("reason"));
  CHECK(p.object("data")["a"] == 1);
  CHECK(p.strings("types")->size() == 2);
  CHECK_FALSE(p.finish());
}

TEST_CASE("an array holding a non-string is refused", "[params]") {
  json j = {{"types", {"x", 3}}};
  Params p(j);
  CHECK_FALSE(p.strings("types"));
  REQUIRE(p.finish());
  CHECK(p.finish()->message == "`types` must hold only strings (found integer)");
}

TEST_CASE("the parameters nobody asked for are the rest, and then count as known", "[params]") {
  json j = {{"instance_id", "deal-1"}, {"decision", "go"}, {"scores", {{"fit", 3}}}};
  Params p(j);
  (void)p.required_string("instance_id");
  json rest = p.rest();
  CHECK(rest == json({{"decision", "go"}, {"scores", {{"fit", 3}}}}));
  CHECK_FALSE(p.finish());
}
