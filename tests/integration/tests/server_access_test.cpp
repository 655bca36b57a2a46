// Who may talk to the real server: callers are identified by the kernel (SO_PEERCRED). The tests
// run as root (the owner); `nobody` (uid 65534) plays everyone else.
#include <catch2/catch.hpp>

#include "server_support.h"

using namespace flowgate::testing;

namespace {

ProcessResult call_as_nobody(const ServerProcess& s, const std::string& method,
                             const std::string& params = "{}") {
  return run_as(kNobody, kNoGroup, {FLOWGATE_BINARY, "call", method, params, "--socket", s.socket});
}

}  // namespace

TEST_CASE("without a configuration another user cannot even open the socket", "[server][access]") {
  TempDir dir;
  ServerProcess s(dir);
  REQUIRE(s.start());
  auto r = call_as_nobody(s, "server.health");
  CHECK(r.status == 3);
  CHECK(r.err.find("Permission denied") != std::string::npos);
}

TEST_CASE("a user the configuration does not name is refused when connecting", "[server][access]") {
  TempDir dir;
  ServerProcess s(dir, with_config("[server]\nsocket_mode = \"0666\"\n\n[users.crm]\n"
                                   "methods = [\"*\"]\n"));
  REQUIRE(s.start());
  auto r = call_as_nobody(s, "server.health");
  CHECK(r.status == 1);
  CHECK(r.err.find("error[forbidden]") != std::string::npos);
  CHECK(r.err.find("user `nobody` may not connect") != std::string::npos);
  CHECK(s.log().find("refused a connection (uid 65534") != std::string::npos);
  CHECK(s.client().call("server.health"));  // the owner still may
}

TEST_CASE("a configured user may call only its methods, and is told which one it lacks",
          "[server][access]") {
  TempDir dir;
  ServerProcess s(dir, with_config("[server]\nsocket_mode = \"0666\"\n\n[users.nobody]\n"
                                   "roles = [\"AR\"]\n"
                                   "methods = [\"server.health\", \"instance.get\"]\n"));
  REQUIRE(s.start());
  auto ok = call_as_nobody(s, "server.health");
  CHECK(ok.status == 0);
  CHECK(Json::parse(ok.out)["principal"] == "nobody");
  auto r = call_as_nobody(s, "instance.start", R"({"workflow":"deal","data":{"customer":"Acme"}})");
  CHECK(r.status == 1);
  CHECK(r.err.find("user `nobody` may not call `instance.start`") != std::string::npos);
}

TEST_CASE("a group grants its members; roles are enforced and recorded as the verified user",
          "[server][access]") {
  TempDir dir;
  ServerProcess s(dir, with_config("[server]\nsocket_mode = \"0666\"\n\n[groups.nogroup]\n"
                                   "roles = [\"SR\"]\n"
                                   "methods = [\"instance.*\"]\n"));
  REQUIRE(s.start());
  auto started =
      call_as_nobody(s, "instance.start", R"({"workflow":"deal","data":{"customer":"Acme"}})");
  REQUIRE(started.status == 0);
  // `close` needs AR, which the group does not grant: the engine refuses it.
  auto quoted =
      call_as_nobody(s, "instance.fire",
                     R"({"instance_id":"deal-1","event":"quote","payload":{"amount":"10.00"}})");
  CHECK(quoted.status == 0);
  auto refused = call_as_nobody(s, "instance.fire", R"({"instance_id":"deal-1","event":"close"})");
  CHECK(refused.status == 1);
  CHECK(refused.err.find("error[forbidden]") != std::string::npos);
  // Only trusted principals may speak for someone else.
  auto behalf = call_as_nobody(
      s, "instance.fire",
      R"({"instance_id":"deal-1","event":"requote","payload":{"amount":"9.00"},"actor":{"user":"sven","roles":["SR"]}})");
  CHECK(behalf.status == 1);
  CHECK(behalf.err.find("not trusted") != std::string::npos);
  auto history = s.client().call("instance.history", {{"instance_id", "deal-1"}});
  REQUIRE(history);
  CHECK((*history)["events"][1]["actor"]["principal"] == "nobody");
  CHECK((*history)["events"][1]["actor"]["roles"] == Json({"SR"}));
}
