// The real `flowgate serve` against bad input and load: malformed and oversized lines, invalid
// JSON-RPC, unknown methods, wrong parameter types, a flood of garbage from several clients, 200
// concurrent clients and idle connections.
#include <catch2/catch.hpp>

#include <random>
#include <set>
#include <thread>

#include "server_support.h"

using namespace flowgate::testing;
using flowgate::server::RpcClient;

TEST_CASE("a malformed line is answered with a parse error and the connection stays usable",
          "[server]") {
  TempDir dir;
  ServerProcess s(dir);
  REQUIRE(s.start());
  RpcClient c = s.client();
  REQUIRE(c.send_line(R"({"jsonrpc":"2.0","id":1,"method":)"));
  Json e = next_json(c);
  CHECK(e["error"]["code"] == -32700);
  CHECK(e["id"].is_null());
  auto health = c.call("server.health");
  REQUIRE(health);
  CHECK((*health)["status"] == "ok");
}

TEST_CASE("a line over 1 MiB is answered with an error, then the connection is closed",
          "[server]") {
  TempDir dir;
  ServerProcess s(dir);
  REQUIRE(s.start());
  RpcClient c = s.client();
  std::string big = R"({"jsonrpc":"2.0","id":1,"method":"server.health","params":{"pad":")" +
                    std::string((1 << 20) + 10, 'x');
  REQUIRE(c.send_line(big + "\"}}"));
  Json e = next_json(c);
  CHECK(e["error"]["code"] == -32001);
  CHECK(e["error"]["data"]["max_line_bytes"] == 1 << 20);
  auto end = c.read_line(20s);
  REQUIRE_FALSE(end);
  CHECK(end.error().code == flowgate::ErrorCode::kUnavailable);
  // The server itself is fine.
  CHECK(s.client().call("server.health"));
}

TEST_CASE("requests that are not JSON-RPC 2.0 get invalid request", "[server]") {
  TempDir dir;
  ServerProcess s(dir);
  REQUIRE(s.start());
  RpcClient c = s.client();
  REQUIRE(c.send_line(R"({"id":5,"method":"server.health"})"));
  Json e = next_json(c);
  CHECK(e["error"]["code"] == -32600);
  CHECK(e["id"] == 5);
  REQUIRE(c.send_line("[]"));
  CHECK(next_json(c)["error"]["code"] == -32600);
}

TEST_CASE("an unknown method gets method not found with a suggestion", "[server]") {
  TempDir dir;
  ServerProcess s(dir);
  REQUIRE(s.start());
  RpcClient c = s.client();
  auto r = c.request("instance.strat");
  REQUIRE(r);
  CHECK((*r)["error"]["code"] == -32601);
  CHECK((*r)["error"]["data"]["hint"] == "did you mean `instance.start`?");
}

TEST_CASE("wrong parameter types get invalid params naming the parameter", "[server]") {
  TempDir dir;
  ServerProcess s(dir);
  REQUIRE(s.start());
  RpcClient c = s.client();
  auto r = c.request("instance.start", {{"workflow", "deal"}, {"data", "Acme"}});
  REQUIRE(r);
  CHECK((*r)["error"]["code"] == -32602);
  CHECK((*r)["error"]["message"] == "`data` must be an object (got string)");
  r = c.request("instance.fire",
                {{"instance_id", "deal-1"}, {"event", "quote"}, {"expect_version", -1}});
  CHECK((*r)["error"]["code"] == -32602);
  r = c.request("instance.list", {{"limit", "ten"}});
  CHECK((*r)["error"]["code"] == -32602);
}

TEST_CASE("10,000 random garbage lines from several clients leave the server healthy", "[server]") {
  TempDir dir;
  ServerProcess s(dir);
  REQUIRE(s.start());
  constexpr int kClients = 4;
  constexpr int kLines = 2500;
  std::vector<std::thread> threads;
  std::vector<int> answered(kClients, 0);
  for (int t = 0; t < kClients; ++t) {
    threads.emplace_back([&, t] {
      auto c = RpcClient::connect(s.socket);
      if (!c) return;
      std::thread writer([&] {
        std::mt19937 rng(static_cast<unsigned>(t) * 7919u + 1u);
        for (int i = 0; i < kLines; ++i) {
          std::string line(1 + rng() % 300, ' ');
          for (char& ch : line) {
            do {
              ch = static_cast<char>(1 + rng() % 255);
            } while (ch == '\n');
          }
          line[0] = static_cast<char>('!' + rng() % 90);  // never a blank line
          if (!c->send_line(line)) return;
        }
      });
      for (int i = 0; i < kLines; ++i) {
        auto line = c->read_line(60s);
        if (!line || !*line) break;
        Json j = Json::parse(**line, nullptr, false);
        if (j.is_object() && j.contains("error")) ++answered[t];
      }
      writer.join();
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kClients; ++t) CHECK(answered[t] == kLines);
  auto health = s.client().call("server.health");
  REQUIRE(health);
  CHECK((*health)["status"] == "ok");
  auto stats = s.client().call("server.stats");
  CHECK((*stats)["protocol_errors"] == kClients * kLines);
}

TEST_CASE("200 concurrent clients are all served", "[server]") {
  TempDir dir;
  ServerProcess s(dir);
  REQUIRE(s.start());
  std::vector<RpcClient> clients;
  for (int i = 0; i < 200; ++i) clients.push_back(s.client());
  for (int i = 0; i < 200; ++i) {
    REQUIRE(clients[i].send_line(rpc("instance.start",
                                     {{"workflow", "deal"},
                                      {"data", {{"customer", "Acme"}}},
                                      {"business_key", "K-" + std::to_string(i)}},
                                     i)));
  }
  std::set<std::string> ids;
  for (int i = 0; i < 200; ++i) {
    Json r = next_json(clients[i]);
    CHECK(r["id"] == i);
    ids.insert(r["result"]["instance_id"].get<std::string>());
  }
  CHECK(ids.size() == 200);
  auto stats = clients[0].call("server.stats");
  CHECK((*stats)["connections"] == 200);
  auto list = clients[0].call("instance.list", {{"limit", 1000}});
  CHECK((*list)["instances"].size() == 200);
}

TEST_CASE("a client that connects and sends nothing is closed after the idle timeout", "[server]") {
  TempDir dir;
  ServerProcess s(dir, with_config("[server]\nidle_timeout = \"300ms\"\n"));
  REQUIRE(s.start());
  RpcClient idle = s.client();
  Json note = next_json(idle);
  CHECK(note["method"] == "server.closing");
  CHECK(note["params"]["reason"] == "idle");
  auto end = idle.read_line(20s);
  REQUIRE_FALSE(end);
  auto stats = s.client().call("server.stats");
  CHECK((*stats)["idle_closed"] >= 1);
}

TEST_CASE("pipelined requests on one connection are each answered with their id", "[server]") {
  TempDir dir;
  ServerProcess s(dir);
  REQUIRE(s.start());
  RpcClient c = s.client();
  std::string lines;
  for (int i = 0; i < 50; ++i) lines += rpc("server.health", Json::object(), i) + "\n";
  REQUIRE(c.send_line(lines));
  std::set<int> ids;
  for (int i = 0; i < 50; ++i) ids.insert(next_json(c)["id"].get<int>());
  CHECK(ids.size() == 50);
}

TEST_CASE("batches mixing engine commands, reads and bad elements are answered whole, in order",
          "[server]") {
  // Commands are answered from the engine's answering thread, reads from the workers, the rest on
  // the I/O thread: each batch still comes back once, as one array in request order.
  TempDir dir;
  ServerProcess s(dir);
  REQUIRE(s.start());
  const Json start_params = {{"workflow", "deal"}, {"data", {{"customer", "Acme"}}}};
  RpcClient setup = s.client();
  auto first = setup.call("instance.start", start_params);
  REQUIRE(first);
  const std::string known = (*first)["instance_id"];
  constexpr int kClients = 4;
  constexpr int kBatches = 40;
  std::vector<RpcClient> clients;
  for (int c = 0; c < kClients; ++c) clients.push_back(s.client());
  for (int b = 0; b < kBatches; ++b) {
    for (int c = 0; c < kClients; ++c) {
      const int base = (c * kBatches + b) * 10;
      Json batch = Json::array({
          Json::parse(rpc("instance.start", start_params, base)),
          Json::parse(rpc("instance.get", {{"instance_id", known}}, base + 1)),
          Json::parse(rpc("no.such.method", Json::object(), base + 2)),
          42,
          {{"jsonrpc", "2.0"}, {"method", "instance.start"}, {"params", start_params}},
          Json::parse(rpc("instance.start", start_params, base + 5)),
      });
      REQUIRE(clients[c].send_line(batch.dump()));
    }
  }
  std::set<std::string> started;
  for (int c = 0; c < kClients; ++c) {
    std::set<int> bases;  // batches may finish out of order; each answer names its ids
    for (int b = 0; b < kBatches; ++b) {
      Json a = next_json(clients[c]);
      REQUIRE(a.is_array());
      REQUIRE(a.size() == 5);  // the notification is not answered
      const int base = a[0]["id"].get<int>();
      CHECK(base / 10 / kBatches == c);
      bases.insert(base);
      started.insert(a[0]["result"]["instance_id"].get<std::string>());
      CHECK(a[1]["id"] == base + 1);
      CHECK(a[1]["result"]["instance_id"] == known);
      CHECK(a[2]["id"] == base + 2);
      CHECK(a[2]["error"]["code"] == -32601);
      CHECK(a[3]["id"].is_null());
      CHECK(a[3]["error"]["code"] == -32600);
      CHECK(a[4]["id"] == base + 5);
      started.insert(a[4]["result"]["instance_id"].get<std::string>());
    }
    CHECK(bases.size() == kBatches);
  }
  CHECK(started.size() == 2 * kClients * kBatches);
  auto list = setup.call("instance.list", {{"limit", 1000}});
  REQUIRE(list);
  CHECK((*list)["instances"].size() == 1 + 3 * kClients * kBatches);  // the notifications' too
  auto stats = setup.call("server.stats");
  REQUIRE(stats);
  CHECK((*stats)["in_flight"] == 1);  // this call
  CHECK((*stats)["latency"]["samples"] >= 5 * kClients * kBatches);
}
