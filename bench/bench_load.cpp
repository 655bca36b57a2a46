// bench_load: how long loading and validating a very large process file takes, and how much memory
// it needs. Generates a valid workflow (default 5,000 states and 20,000 transitions, with typed
// data fields, guards, payloads and assignments), writes it to a temporary file, loads it with
// load_workflow_file (parse, compile expressions, every validation and lint pass) and prints the
// figures, one per line.
//
//   bench_load [--states N] [--transitions M] [--runs R] [--keep]
//   bench_load --smoke        (tiny size, one run: what CI runs)
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "definition/loader.h"
#include "definition/section_registry.h"

namespace {

struct Options {
  int states = 5000;
  int transitions = 20000;
  int runs = 3;
  bool keep = false;
};

constexpr int kIntFields = 10;  // f0 .. f9

// A valid workflow of N states: s0..s{N-2} and `cancelled`, with s{N-2} and `cancelled` terminal, a
// chain s0 -> s1 -> ... so every state is reachable and reaches a terminal, and per state a cycle
// of distinct events so no (state, event) pair is ambiguous. Every data field is read or assigned
// somewhere.
std::string generate(int n_states, int n_transitions) {
  std::string out;
  out.reserve(static_cast<std::size_t>(n_transitions) * 150 +
              static_cast<std::size_t>(n_states) * 60);
  out +=
      "[workflow]\nid = \"bench\"\nname = \"Generated benchmark workflow\"\nversion = 1\n"
      "initial = \"s0\"\n\n";
  out += "[roles]\nops = \"Operations\"\nmanager = \"Manager\"\n\n";
  out += "[data.amount]\ntype = \"money\"\ncurrency = \"EUR\"\ndefault = 0\nmin = 0\n\n";
  out += "[data.count]\ntype = \"int\"\ndefault = 0\n\n";
  out += "[data.score]\ntype = \"decimal\"\nmin = 0\nmax = 1\n\n";
  out += "[data.flag]\ntype = \"bool\"\ndefault = false\n\n";
  out += "[data.region]\ntype = \"enum\"\nvalues = [\"emea\", \"apac\", \"americas\"]\n\n";
  out += "[data.reason]\ntype = \"string\"\nmin = 3\n\n";
  for (int f = 0; f < kIntFields; ++f) out += fmt::format("[data.f{}]\ntype = \"int\"\n\n", f);

  const int chain = n_states - 1;  // plus `cancelled`
  for (int i = 0; i < chain; ++i) {
    out += fmt::format("[states.s{}]\nstage = \"stage_{}\"\nowner = \"ops\"\n", i, i / 100);
    if (i == chain - 1) out += "terminal = true\n";
    out += "\n";
  }
  out += "[states.cancelled]\nterminal = true\n\n";

  const int last = chain - 1;
  const int sources = std::max(1, last);  // every state but the terminal one
  for (int t = 0; t < n_transitions; ++t) {
    const int i = t % sources;
    const int k = t / sources;  // the k-th transition leaving s{i}: its event is unique there
    out += fmt::format("[[transitions]]\nfrom = \"s{}\"\n", i);
    // Compact on purpose: 20,000 transitions must stay under kMaxProcessFileBytes (4 MiB).
    switch (k) {
      case 0:
        out += fmt::format(
            "to = \"s{}\"\nevent = \"advance\"\nroles = [\"ops\"]\n"
            "guard = \"amount >= 100 and f{} >= 0\"\npayload = {{ amount = \"money\" }}\n"
            "set = {{ count = \"count + 1\", amount = \"amount + event.amount\" }}\n",
            i + 1, i % kIntFields);
        break;
      case 1:
        out += fmt::format(
            "to = \"s{}\"\nevent = \"skip\"\nroles = [\"manager\"]\n"
            "guard = \"region in ['emea', 'apac'] and flag\"\nset = {{ flag = false }}\n",
            std::min(i + 2, last));
        break;
      case 2:
        out += fmt::format(
            "to = \"s{}\"\nevent = \"back\"\nroles = [\"ops\", \"manager\"]\n"
            "guard = \"score < 0.5\"\npayload = {{ score = \"decimal\" }}\n"
            "set = {{ score = \"event.score\", flag = true }}\n",
            std::max(i - 1, 0));
        break;
      case 3:
        out +=
            "to = \"cancelled\"\nevent = \"cancel\"\nroles = [\"manager\"]\n"
            "payload = { reason = \"string\" }\nset = { reason = \"event.reason\" }\n";
        break;
      default: {
        const int f = k % kIntFields;
        out += fmt::format(
            "to = \"s{}\"\nevent = \"jump_{}\"\nroles = [\"ops\"]\nguard = \"f{} > {}\"\n"
            "set = {{ f{} = \"f{} + 1\" }}\n",
            (i * 7 + k) % chain, k, f, k, (f + 1) % kIntFields, f);
      }
    }
    out += "\n";
  }
  return out;
}

double peak_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // Linux: kilobytes
}

int usage_error(const char* argv0) {
  std::fprintf(stderr, "usage: %s [--smoke] [--states N] [--transitions M] [--runs R] [--keep]\n",
               argv0);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  for (int a = 1; a < argc; ++a) {
    std::string arg = argv[a];
    auto number = [&](int& target) {
      if (a + 1 >= argc) return false;
      char* end = nullptr;
      long v = std::strtol(argv[++a], &end, 10);
      if (*end != '\0' || v < 1 || v > 10'000'000) return false;
      target = static_cast<int>(v);
      return true;
    };
    if (arg == "--smoke") {
      opt.states = 50;
      opt.transitions = 200;
      opt.runs = 1;
    } else if (arg == "--states") {
      if (!number(opt.states)) return usage_error(argv[0]);
    } else if (arg == "--transitions") {
      if (!number(opt.transitions)) return usage_error(argv[0]);
    } else if (arg == "--runs") {
      if (!number(opt.runs)) return usage_error(argv[0]);
    } else if (arg == "--keep") {
      opt.keep = true;
    } else {
      return usage_error(argv[0]);
    }
  }
  if (opt.states < 3) return usage_error(argv[0]);

  const std::string text = generate(opt.states, opt.transitions);
  const auto path = std::filesystem::temp_directory_path() /
                    fmt::format("flowgate-bench-load-{}.toml", static_cast<long>(::getpid()));
  {
    std::ofstream file(path, std::ios::binary | std::ios::trunc);
    file << text;
    if (!file) {
      std::fprintf(stderr, "bench_load: cannot write %s\n", path.c_str());
      return 1;
    }
  }
  const double baseline_mib = peak_rss_mib();

  flowgate::SectionRegistry registry;
  std::vector<double> times_ms;
  flowgate::LoadResult result;
  for (int r = 0; r < opt.runs; ++r) {
    result = {};  // free the previous model first: peak RSS should reflect one loaded model
    auto start = std::chrono::steady_clock::now();
    result = flowgate::load_workflow_file(path.string(), registry);
    auto stop = std::chrono::steady_clock::now();
    times_ms.push_back(std::chrono::duration<double, std::milli>(stop - start).count());
  }
  if (!opt.keep) std::filesystem::remove(path);

  const auto& diags = result.diagnostics;
  std::printf("bench_load: workflow          %d states, %d transitions, %d data fields\n",
              opt.states, opt.transitions, 6 + kIntFields);
  std::printf("bench_load: file size         %.2f MiB (%zu bytes)%s\n",
              static_cast<double>(text.size()) / (1024.0 * 1024.0), text.size(),
              opt.keep ? fmt::format(", kept at {}", path.string()).c_str() : "");
  std::printf("bench_load: diagnostics       %zu errors, %zu warnings\n", diags.error_count(),
              diags.warning_count());
  if (!result.ok() || diags.warning_count() > 0) {
    for (std::size_t i = 0; i < diags.items().size() && i < 10; ++i) {
      std::fprintf(stderr, "%s\n", diags.items()[i].to_string().c_str());
    }
    std::fprintf(stderr, "bench_load: the generated workflow must load cleanly\n");
    return 1;
  }
  std::sort(times_ms.begin(), times_ms.end());
  double mean = 0;
  for (double t : times_ms) mean += t / static_cast<double>(times_ms.size());
  std::printf("bench_load: load+validate     best %.1f ms, mean %.1f ms over %d run(s)\n",
              times_ms.front(), mean, opt.runs);
  std::printf("bench_load: peak RSS          %.1f MiB (%.1f MiB before loading)\n", peak_rss_mib(),
              baseline_mib);
  return 0;
}
