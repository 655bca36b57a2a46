// A writer process for the crash-safety test: opens the engine on a database, runs several
// submitter threads that start instances and fire events as fast as they are answered, and prints
// one line "ACK <request_id> <instance_id> <version>" per answered command, flushed at once. The
// test kills it with SIGKILL at random moments and checks that every acknowledged command is
// durable.
//
// usage: load_writer DB WORKFLOW_FILE ROUND THREADS
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "definition/loader.h"
#include "runtime/engine.h"

using namespace flowgate;

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: load_writer DB WORKFLOW_FILE ROUND THREADS\n");
    return 2;
  }
  std::string db = argv[1];
  static SectionRegistry none;
  LoadResult wf = load_workflow_file(argv[2], none);
  if (!wf.ok()) {
    std::fprintf(stderr, "cannot load %s\n", argv[2]);
    return 2;
  }
  std::string round = argv[3];
  int threads = std::atoi(argv[4]);

  auto catalog = std::make_shared<Catalog>();
  catalog->add(wf.workflow);
  EngineOptions options;
  options.db_path = db;
  options.checkpoint_every = 200;
  auto engine = Engine::open(options, catalog, std::make_shared<SystemClock>(), none);
  if (!engine) {
    std::fprintf(stderr, "%s\n", engine.error().to_string().c_str());
    return 3;
  }
  std::mutex out_mu;
  auto ack = [&](const std::string& rid, const CommandOutcome& o) {
    std::lock_guard lock(out_mu);
    std::printf("ACK %s %s %lld\n", rid.c_str(),
                o.instance["instance_id"].get<std::string>().c_str(),
                static_cast<long long>(o.instance["version"].get<std::int64_t>()));
    std::fflush(stdout);
  };
  std::puts("READY");
  std::fflush(stdout);

  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      Actor sr{"sam", {"SR"}, ""};
      for (long i = 0;; ++i) {
        Command start;
        start.kind = CommandKind::kStart;
        start.workflow_id = wf.workflow->id;
        start.data = {{"customer", "Acme " + std::to_string(i)}};
        start.request_id = "r" + round + "-t" + std::to_string(t) + "-" + std::to_string(i) + "-s";
        start.actor = sr;
        auto started = (*engine)->execute(start);
        if (!started) continue;
        ack(start.request_id, *started);
        std::string id = started->instance["instance_id"];
        for (int k = 0; k < 5; ++k) {
          Command fire;
          fire.kind = CommandKind::kFire;
          fire.instance_id = id;
          fire.event = k == 0 ? "quote" : "requote";
          fire.payload = {{"amount", std::to_string(k + 1) + ".50"}};
          fire.request_id = start.request_id + std::to_string(k);
          fire.actor = sr;
          auto r = (*engine)->execute(fire);
          if (r) ack(fire.request_id, *r);
        }
      }
    });
  }
  for (auto& w : workers) w.join();
  return 0;
}
