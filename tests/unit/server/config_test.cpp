// The server configuration file: settings, grants, and the errors a typo gets.
#include <catch2/catch.hpp>

#include <string>

#include "server/config.h"

using namespace flowgate;
using namespace flowgate::server;

namespace {
const std::vector<std::string> kMethods = {"instance.get",     "instance.fire", "instance.list",
                                           "instance.history", "workflow.list", "events.watch"};
}

TEST_CASE("the fixture configuration loads its settings and grants", "[config]") {
  auto c =
      load_server_config(std::string(FLOWGATE_SOURCE_DIR) + "/tests/fixtures/server/access.toml");
  REQUIRE(c);
  CHECK(c->has_file);
  CHECK(c->settings.socket_mode == 0660);
  CHECK(c->settings.idle_timeout == std::chrono::minutes(2));
  CHECK(c->settings.max_line_bytes == 65536);
  CHECK(c->settings.watch_buffer == 500);
  CHECK(c->settings.log_level == "debug");
  REQUIRE(c->access.users.count("crm") == 1);
  CHECK(c->access.users["crm"].trusted);
  CHECK(c->access.users["crm"].roles == std::vector<std::string>{"AR", "SR"});
  CHECK(c->access.groups["directors"].methods.size() == 3);
  CHECK_FALSE(c->access.groups["audit"].trusted);
  CHECK(check_config_methods(*c, kMethods));
}

TEST_CASE("an unknown key is an error with its position and a suggestion", "[config]") {
  auto c = parse_server_config("[users.crm]\nrole = [\"AR\"]\n", "cfg.toml");
  REQUIRE_FALSE(c);
  CHECK(c.error().message == "cfg.toml:2:8: unknown key `role` in [users.crm]");
  CHECK(c.error().hint == "did you mean `roles`?");
}

TEST_CASE("a socket mode that would lock the owner out or add execute bits is refused",
          "[config]") {
  for (const char* mode : {"\"0060\"", "\"0777\"", "\"660x\"", "660"}) {
    auto c = parse_server_config(std::string("[server]\nsocket_mode = ") + mode + "\n", "c.toml");
    INFO(mode);
    CHECK_FALSE(c);
  }
  auto ok = parse_server_config("[server]\nsocket_mode = \"0600\"\n", "c.toml");
  REQUIRE(ok);
  CHECK(ok->settings.socket_mode == 0600);
}

TEST_CASE("durations and limits are checked", "[config]") {
  CHECK_FALSE(parse_server_config("[server]\nidle_timeout = \"soon\"\n", "c.toml"));
  CHECK_FALSE(parse_server_config("[server]\nmax_line_bytes = 10\n", "c.toml"));
  CHECK_FALSE(parse_server_config("[server]\nlog_level = \"loud\"\n", "c.toml"));
  auto c = parse_server_config("[server]\nidle_timeout = \"250ms\"\n", "c.toml");
  REQUIRE(c);
  CHECK(c->settings.idle_timeout == std::chrono::milliseconds(250));
}

TEST_CASE("a TOML syntax error names the line", "[config]") {
  auto c = parse_server_config("[server\n", "c.toml");
  REQUIRE_FALSE(c);
  CHECK(c.error().message.rfind("c.toml:1:", 0) == 0);
}

TEST_CASE("a grant naming a method the server lacks is refused with a suggestion", "[config]") {
  auto c = parse_server_config("[users.bob]\nmethods = [\"instance.fir\", \"sla.*\"]\n", "c.toml");
  REQUIRE(c);
  auto ok = check_config_methods(*c, kMethods);
  REQUIRE_FALSE(ok);
  CHECK(ok.error().message.find("unknown method `instance.fir`") != std::string::npos);
  CHECK(ok.error().hint == "did you mean `instance.fire`?");
}

TEST_CASE("method patterns cover exact names, a group or everything", "[config]") {
  CHECK(method_matches("*", "instance.fire"));
  CHECK(method_matches("instance.*", "instance.fire"));
  CHECK_FALSE(method_matches("instance.*", "instances.list"));
  CHECK_FALSE(method_matches("instance.*", "workflow.list"));
  CHECK(method_matches("instance.fire", "instance.fire"));
  CHECK_FALSE(method_matches("instance.fire", "instance.firex"));
}
