// Crash safety: a writer process under concurrent load is killed with SIGKILL at random moments,
// 20 rounds on one database. After each kill: every command whose answer reached the client is in
// the history, no half-applied command is visible (each snapshot equals the fold of its events),
// and every hash chain verifies.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <random>
#include <sstream>
#include <string>

#include "definition/loader.h"
#include "runtime/decide.h"
#include "store/hash_chain.h"
#include "store/store.h"
#include "support/temp_dir.h"

using namespace flowgate;

namespace {

InstanceFilter all_instances() {
  InstanceFilter f;
  f.limit = 10000;
  return f;
}

struct Ack {
  std::string instance_id;
  std::int64_t version;
};

// Runs load_writer for about `run_ms`, kills it with SIGKILL, and returns what it acknowledged.
std::map<std::string, Ack> run_and_kill(const std::string& db, const std::string& workflow,
                                        int round, int run_ms) {
  int out[2];
  REQUIRE(pipe(out) == 0);
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    dup2(out[1], STDOUT_FILENO);
    close(out[0]);
    close(out[1]);
    execl(FLOWGATE_LOAD_WRITER, FLOWGATE_LOAD_WRITER, db.c_str(), workflow.c_str(),
          std::to_string(round).c_str(), "4", static_cast<char*>(nullptr));
    _exit(127);
  }
  close(out[1]);
  std::string text;
  char buf[65536];
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(run_ms);
  bool ready = false;
  for (;;) {
    auto now = std::chrono::steady_clock::now();
    if (ready && now >= deadline) break;
    pollfd p{out[0], POLLIN, 0};
    int wait_ms =
        ready ? static_cast<int>(
                    std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count())
              : 10000;
    if (poll(&p, 1, std::max(wait_ms, 1)) <= 0) {
      if (!ready) break;
      continue;
    }
    ssize_t n = read(out[0], buf, sizeof buf);
    if (n <= 0) break;
    text.append(buf, static_cast<std::size_t>(n));
    if (!ready && text.find("READY\n") != std::string::npos) {
      ready = true;
      deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(run_ms);
    }
  }
  kill(pid, SIGKILL);
  // Whatever was already written to the pipe was acknowledged before the kill.
  fcntl(out[0], F_SETFL, O_NONBLOCK);
  for (ssize_t n; (n = read(out[0], buf, sizeof buf)) > 0;)
    text.append(buf, static_cast<std::size_t>(n));
  close(out[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  REQUIRE(ready);
  std::map<std::string, Ack> acks;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("ACK ", 0) != 0) continue;
    std::istringstream f(line.substr(4));
    std::string rid;
    Ack a;
    if (f >> rid >> a.instance_id >> a.version) acks[rid] = a;  // a torn last line is skipped
  }
  return acks;
}

}  // namespace

TEST_CASE("SIGKILL at random moments loses no acknowledged command and leaves no partial one",
          "[integration][crash]") {
  flowgate::testing::TempDir dir;
  std::string db = dir.file("crash.db");
  std::string workflow = std::string(FLOWGATE_SOURCE_DIR) + "/tests/fixtures/runtime/deal.toml";
  static SectionRegistry none;
  auto wf = load_workflow_file(workflow, none).workflow;
  REQUIRE(wf);

  std::mt19937 rng(20261122);
  std::uniform_int_distribution<int> run_ms(30, 250);
  std::size_t total_acks = 0;
  for (int round = 1; round <= 20; ++round) {
    auto acks = run_and_kill(db, workflow, round, run_ms(rng));
    total_acks += acks.size();

    StoreOptions so;
    so.path = db;
    so.read_only = true;
    auto store = Store::open(so);
    if (!store) FAIL("round " << round << ": " << store.error().to_string());
    for (const auto& [rid, ack] : acks) {
      auto rec = (*store)->find_request(rid);
      REQUIRE(rec);
      INFO("round " << round << " request " << rid);
      REQUIRE(rec->has_value());
      auto snap = (*store)->get_instance(ack.instance_id);
      REQUIRE(snap);
      REQUIRE(snap->has_value());
      CHECK((*snap)->last_seq >= ack.version);
    }
    auto instances = (*store)->list_instances(all_instances());
    REQUIRE(instances);
    for (const auto& snap : *instances) {
      auto events = (*store)->history(snap.instance_id);
      REQUIRE(events);
      INFO("round " << round << " instance " << snap.instance_id);
      REQUIRE(static_cast<std::int64_t>(events->size()) == snap.last_seq);
      InstanceState folded;
      folded.id = snap.instance_id;
      std::string prev;
      for (const auto& e : *events) {
        REQUIRE(e.prev_hash == prev);
        REQUIRE(e.hash == compute_event_hash(prev, e));
        prev = e.hash;
        REQUIRE(apply(folded, Event{e.type, e.body}, *wf, e.at_ms));
      }
      CHECK(snap.head_hash == prev);
      CHECK(folded.state == snap.state);
      CHECK(data_to_json(folded.data, *wf) == snap.data);
    }
  }
  INFO("acknowledged commands over all rounds: " << total_acks);
  CHECK(total_acks > 0);
}
