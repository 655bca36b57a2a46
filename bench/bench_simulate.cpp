// Simulation throughput: `flowgate simulate` on 100,000 ITR instances (docs/scenarios.md), run as
// the real CLI next to this benchmark (build/<dir>/tools/flowgate), timed from outside. Prints the
// wall time, commands and events per second and whether the report agreed with the database.
// `--smoke` runs 500 instances (CI); `--instances N`, `--workflow FILE` (default
// workflows/itr.toml, from the source root), `--config SIM.toml`, `--flowgate PATH` change the run.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

namespace {

std::string sibling_flowgate() {
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "flowgate";
  return (self.parent_path().parent_path() / "tools" / "flowgate").string();
}

std::string shell_quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace

int main(int argc, char** argv) {
  long instances = 100000;
  std::string workflow = "workflows/itr.toml";
  std::string config;
  std::string flowgate = sibling_flowgate();
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--smoke") {
      instances = 500;
    } else if (a == "--instances") {
      instances = std::atol(next().c_str());
    } else if (a == "--workflow") {
      workflow = next();
    } else if (a == "--config") {
      config = next();
    } else if (a == "--flowgate") {
      flowgate = next();
    } else {
      std::fprintf(stderr,
                   "usage: bench_simulate [--smoke] [--instances N] [--workflow FILE] "
                   "[--config SIM.toml] [--flowgate PATH]\n");
      return 2;
    }
  }
  std::string cmd = shell_quoted(flowgate) + " simulate " + shell_quoted(workflow) +
                    " --instances " + std::to_string(instances) +
                    " --seed 42 --format json --quiet";
  if (!config.empty()) cmd += " --config " + shell_quoted(config);
  auto start = std::chrono::steady_clock::now();
  FILE* pipe = popen(cmd.c_str(), "r");
  if (pipe == nullptr) {
    std::perror("popen");
    return 1;
  }
  std::string out;
  char buf[65536];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, pipe)) > 0;) out.append(buf, n);
  int status = pclose(pipe);
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  auto report = nlohmann::json::parse(out, nullptr, false);
  if (status != 0 || report.is_discarded()) {
    std::fprintf(stderr, "bench_simulate: `%s` failed (status %d)\n", cmd.c_str(), status);
    return 1;
  }
  long commands = report.value("commands", 0L);
  long events = report.value("events", 0L);
  std::printf("simulate %s: %ld instances, %ld commands, %ld events, %ld group commits\n",
              workflow.c_str(), instances, commands, events, report.value("batches", 0L));
  std::printf(
      "wall %.1f s (process), %.1f s (simulation); %.0f commands/s, %.0f events/s; "
      "report consistent: %s\n",
      wall, report.value("wall_ms", 0L) / 1000.0, commands / wall, events / wall,
      report.value("consistent", false) ? "yes" : "NO");
  return report.value("consistent", false) ? 0 : 1;
}
