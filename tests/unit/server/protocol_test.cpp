// JSON-RPC 2.0 framing: what a line becomes, and the error answered for each kind of bad line.
#include <catch2/catch.hpp>

#include <string>

#include "server/protocol.h"

using namespace flowgate;
using namespace flowgate::server;
using nlohmann::json;

TEST_CASE("a request line becomes its method, id and named parameters", "[protocol]") {
  ParsedLine p = parse_line(
      R"({"jsonrpc":"2.0","id":7,"method":"instance.get","params":{"instance_id":"deal-1"}})");
  REQUIRE(p.items.size() == 1);
  REQUIRE(p.items[0].request);
  CHECK_FALSE(p.batch);
  CHECK(p.items[0].request->method == "instance.get");
  CHECK(p.items[0].request->id == 7);
  CHECK_FALSE(p.items[0].request->notification);
  CHECK(p.items[0].request->params["instance_id"] == "deal-1");
}

TEST_CASE("a request without an id is a notification and without params has empty params",
          "[protocol]") {
  ParsedLine p = parse_line(R"({"jsonrpc":"2.0","method":"server.health"})");
  REQUIRE(p.items[0].request);
  CHECK(p.items[0].request->notification);
  CHECK(p.items[0].request->params == json::object());
}

TEST_CASE("a line that is not JSON is a parse error answered with a null id", "[protocol]") {
  for (std::string bad : {"{", "hello", R"({"jsonrpc":"2.0",})", "\xff\xfe{}", "[1,2"}) {
    ParsedLine p = parse_line(bad);
    REQUIRE(p.items.size() == 1);
    REQUIRE_FALSE(p.items[0].request);
    CHECK(p.items[0].error_response["error"]["code"] == kParseError);
    CHECK(p.items[0].error_response["id"].is_null());
  }
}

TEST_CASE("an object that is not JSON-RPC 2.0 is an invalid request that keeps its id",
          "[protocol]") {
  ParsedLine p = parse_line(R"({"id":3,"method":"server.health"})");
  REQUIRE_FALSE(p.items[0].request);
  CHECK(p.items[0].error_response["error"]["code"] == kInvalidRequest);
  CHECK(p.items[0].error_response["id"] == 3);

  p = parse_line(R"({"jsonrpc":"2.0","id":4,"method":12})");
  CHECK(p.items[0].error_response["error"]["code"] == kInvalidRequest);

  p = parse_line(R"({"jsonrpc":"2.0","id":{"x":1},"method":"server.health"})");
  CHECK(p.items[0].error_response["error"]["code"] == kInvalidRequest);
  CHECK(p.items[0].error_response["id"].is_null());

  p = parse_line("42");
  CHECK(p.items[0].error_response["error"]["code"] == kInvalidRequest);
}

TEST_CASE("positional params are refused as invalid params", "[protocol]") {
  ParsedLine p = parse_line(R"({"jsonrpc":"2.0","id":1,"method":"instance.get","params":["x"]})");
  REQUIRE_FALSE(p.items[0].request);
  CHECK(p.items[0].error_response["error"]["code"] == kInvalidParams);
  CHECK(p.items[0].error_response["id"] == 1);
}

TEST_CASE("a batch answers each element; an empty batch is one invalid request", "[protocol]") {
  ParsedLine p =
      parse_line(R"([{"jsonrpc":"2.0","id":1,"method":"a"}, 5, {"jsonrpc":"2.0","method":"b"}])");
  CHECK(p.batch);
  REQUIRE(p.items.size() == 3);
  CHECK(p.items[0].request);
  CHECK_FALSE(p.items[1].request);
  CHECK(p.items[1].error_response["error"]["code"] == kInvalidRequest);
  CHECK(p.items[2].request->notification);

  p = parse_line("[]");
  CHECK_FALSE(p.batch);
  REQUIRE(p.items.size() == 1);
  CHECK(p.items[0].error_response["error"]["code"] == kInvalidRequest);
}

TEST_CASE("a batch larger than the limit is refused whole", "[protocol]") {
  std::string line = "[";
  for (std::size_t i = 0; i <= kMaxBatch; ++i) {
    line += (i ? "," : "") + std::string(R"({"jsonrpc":"2.0","id":1,"method":"a"})");
  }
  line += "]";
  ParsedLine p = parse_line(line);
  REQUIRE(p.items.size() == 1);
  CHECK(p.items[0].error_response["error"]["code"] == kInvalidRequest);
}

TEST_CASE("JSON nested deeper than the limit is refused before parsing", "[protocol]") {
  std::string deep(100000, '[');
  ParsedLine p = parse_line(deep);
  REQUIRE(p.items.size() == 1);
  CHECK(p.items[0].error_response["error"]["code"] == kTooDeep);
}

TEST_CASE("brackets inside strings do not count as nesting", "[protocol]") {
  std::string brackets(200, '[');
  CHECK(json_depth(R"({"a":"\")" + brackets + R"("})", 1000) == 1);
  CHECK(json_depth("[[[]]]", 10) == 3);
}

TEST_CASE("a blank line answers nothing", "[protocol]") {
  CHECK(parse_line("").items.empty());
  CHECK(parse_line("  \t\r").items.empty());
}

TEST_CASE("answers are one line each and never throw on invalid UTF-8", "[protocol]") {
  std::string line = to_line(result_response(1, json{{"text", std::string("bad \xff byte")}}));
  CHECK(line.back() == '\n');
  CHECK(line.find('\n') == line.size() - 1);
  CHECK(json::parse(line)["result"]["text"].get<std::string>().find("bad") == 0);
}

TEST_CASE("engine errors keep their stable code, name, hint and data", "[protocol]") {
  Error e = Error(ErrorCode::kEventNotAllowed, "no transition")
                .with_hint("allowed: quote")
                .with_data("allowed", json::array({"quote"}));
  json answer = error_response("r1", RpcError::from(e));
  CHECK(answer["id"] == "r1");
  CHECK(answer["error"]["code"] == 204);
  CHECK(answer["error"]["data"]["name"] == "event_not_allowed");
  CHECK(answer["error"]["data"]["hint"] == "allowed: quote");
  CHECK(answer["error"]["data"]["allowed"][0] == "quote");
}
