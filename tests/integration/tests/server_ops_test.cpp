// Operating the real server: SIGTERM finishes what is in flight, SIGHUP reloads process files, a
// stale socket is replaced, a second server on the same database is refused, and a client that
// disconnects mid-request can tell by retrying whether its command happened.
#include <catch2/catch.hpp>

#include <filesystem>

#include "server_support.h"

using namespace flowgate::testing;
using flowgate::server::RpcClient;

namespace {

Json start_deal(RpcClient& c, const std::string& customer = "Acme") {
  auto r = c.call("instance.start", {{"workflow", "deal"}, {"data", {{"customer", customer}}}});
  INFO((r ? std::string() : r.error().to_string()));
  REQUIRE(r);
  return *r;
}

}  // namespace

TEST_CASE("SIGTERM answers what is in flight, commits it, removes the socket and exits 0",
          "[server][ops]") {
  TempDir dir;
  ServerProcess s(dir);
  REQUIRE(s.start());
  RpcClient c = s.client();
  start_deal(c);
  std::string lines;
  for (int i = 1; i <= 300; ++i) {
    lines +=
        rpc("instance.update", {{"instance_id", "deal-1"}, {"data", {{"touches", i}}}}, i) + "\n";
  }
  REQUIRE(c.send_line(lines));
  kill(s.pid, SIGTERM);
  int answered = 0;
  for (;;) {
    auto line = c.read_line(30s);
    if (!line) break;  // the server closed the connection
    REQUIRE(*line);
    Json j = Json::parse(**line);
    REQUIRE(j.contains("result"));  // every answer is complete and a success
    ++answered;
  }
  CHECK(s.wait_exit() == 0);
  CHECK_FALSE(std::filesystem::exists(s.socket));
  // Everything answered is durable, and nothing unanswered happened.
  auto shown = run_process({FLOWGATE_BINARY, "show", "--db", s.db, "deal-1", "--format", "json"});
  REQUIRE(shown.status == 0);
  CHECK(Json::parse(shown.out)["version"] == 1 + answered);
  CHECK(s.log().find("stopping (SIGTERM)") != std::string::npos);
}

TEST_CASE("SIGHUP loads a new version; a broken file keeps the version in use", "[server][ops]") {
  TempDir dir;
  ServerProcess s(dir);
  REQUIRE(s.start());
  RpcClient c = s.client();
  write_file(s.workflows + "/deal_v2.toml", fixture("runtime/deal_v2.toml"));
  kill(s.pid, SIGHUP);
  REQUIRE(eventually([&] {
    auto list = c.call("workflow.list");
    return list && (*list)["workflows"][0]["versions"] == Json({1, 2});
  }));
  Json v = start_deal(c);
  CHECK(v["workflow_version"] == 2);

  // A file with a syntax error, and a changed v2 that keeps its version number.
  write_file(s.workflows + "/broken.toml", "[workflow\nid = \"deal\"\n");
  std::string changed = fixture("runtime/deal_v2.toml") + "\n# changed without a new version\n";
  write_file(s.workflows + "/deal_v2.toml", changed);
  kill(s.pid, SIGHUP);
  REQUIRE(eventually([&] {
    std::string log = s.log();
    std::size_t first = log.find("reload done");
    return first != std::string::npos && log.find("reload done", first + 1) != std::string::npos;
  }));
  std::string log = s.log();
  CHECK(log.find("broken.toml") != std::string::npos);
  CHECK(log.find("without a new version") != std::string::npos);
  auto health = c.call("server.health");
  REQUIRE(health);
  CHECK(start_deal(c)["workflow_version"] == 2);
}

TEST_CASE("a stale socket file left by a crashed server is replaced", "[server][ops]") {
  TempDir dir;
  std::string path = dir.file("s.sock");
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  ::close(fd);  // the file stays: nobody listens on it
  REQUIRE(std::filesystem::exists(path));
  ServerProcess s(dir);
  REQUIRE(s.start());
  CHECK(s.client().call("server.health"));
}

TEST_CASE("a file at the socket path that is not a socket is left alone", "[server][ops]") {
  TempDir dir;
  write_file(dir.file("s.sock"), "precious");
  ServerProcess s(dir);
  REQUIRE_FALSE(s.start());
  CHECK(s.exit_status == 2);
  CHECK(s.errors().find("is not a socket") != std::string::npos);
  CHECK(read_file(dir.file("s.sock")) == "precious");
}

TEST_CASE("a second server on the same database or socket is refused", "[server][ops]") {
  TempDir dir;
  ServerProcess first(dir);
  REQUIRE(first.start());
  ServerProcess same_db(dir, {}, "s.db", "other.sock");
  REQUIRE_FALSE(same_db.start());
  CHECK(same_db.exit_status == 3);
  CHECK(same_db.errors().find("another process is writing") != std::string::npos);

  ServerProcess same_socket(dir, {}, "other.db", "s.sock");
  REQUIRE_FALSE(same_socket.start());
  CHECK(same_socket.errors().find("already listening") != std::string::npos);
  CHECK(first.client().call("server.health"));
}

TEST_CASE("a client that disconnects mid-request learns by retrying whether it happened",
          "[server][ops]") {
  TempDir dir;
  ServerProcess s(dir);
  REQUIRE(s.start());
  RpcClient c = s.client();
  start_deal(c);
  Json fire = {{"instance_id", "deal-1"},
               {"event", "quote"},
               {"payload", {{"amount", "5000.00"}}},
               {"request_id", "crm-77"}};
  {
    // The whole request is sent; the client goes away before the answer.
    RpcClient gone = s.client();
    REQUIRE(gone.send_line(rpc("instance.fire", fire)));
  }
  REQUIRE(eventually([&] {
    return (*c.call("instance.get", {{"instance_id", "deal-1"}}))["version"] == 2;
  }));
  auto retry = c.call("instance.fire", fire);
  REQUIRE(retry);
  CHECK((*retry)["replayed"] == true);
  CHECK((*retry)["version"] == 2);

  Json second = fire;
  second["request_id"] = "crm-78";
  second["event"] = "requote";
  {
    // Only half of the request reaches the server: it never happens.
    RpcClient gone = s.client();
    std::string line = rpc("instance.fire", second);
    REQUIRE(gone.send_line(line.substr(0, line.size() / 2) + "\n"));  // a broken line
  }
  auto fresh = c.call("instance.fire", second);
  REQUIRE(fresh);
  CHECK_FALSE(fresh->contains("replayed"));
  CHECK((*fresh)["version"] == 3);
}

TEST_CASE("serve refuses bad arguments with a clear message", "[server][ops]") {
  TempDir dir;
  ServeOptions system_clock;
  system_clock.simulated = false;
  system_clock.extra = {"--now", "2026-03-02T09:00:00Z"};
  ServerProcess s(dir, system_clock);
  REQUIRE_FALSE(s.start());
  CHECK(s.exit_status == 2);
  CHECK(s.errors().find("--now needs --clock simulated") != std::string::npos);

  ServerProcess bad_config(dir, with_config("[server]\nsocket_mode = \"0777\"\n"));
  REQUIRE_FALSE(bad_config.start());
  CHECK(bad_config.errors().find("socket_mode") != std::string::npos);

  ServerProcess bad_method(dir, with_config("[users.crm]\nmethods = [\"instance.fier\"]\n"));
  REQUIRE_FALSE(bad_method.start());
  CHECK(bad_method.errors().find("did you mean `instance.fire`") != std::string::npos);
}

TEST_CASE("the socket is created with the configured mode", "[server][ops]") {
  TempDir dir;
  ServerProcess s(dir);
  REQUIRE(s.start());
  auto perms = std::filesystem::status(s.socket).permissions();
  using std::filesystem::perms;
  CHECK((perms & perms::all) ==
        (perms::owner_read | perms::owner_write | perms::group_read | perms::group_write));
}

TEST_CASE("a socket in a directory others may write to is refused", "[server][ops]") {
  TempDir dir;
  std::filesystem::create_directories(dir.file("open"));
  std::filesystem::permissions(dir.file("open"), std::filesystem::perms::all);
  ServerProcess s(dir, {}, "s.db", "open/s.sock");
  REQUIRE_FALSE(s.start());
  CHECK(s.errors().find("writable by other users and not sticky") != std::string::npos);
}
