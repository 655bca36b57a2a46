// `flowgate test SCENARIO...`: runs scenario files (docs/scenarios.md) against a fresh database
// each, on the simulated clock, with the CLI's plugins. One PASS/FAIL line per scenario, the diff
// of a failing step, and a last line `N passed, N failed`. `--coverage` lists what the scenarios
// left unexercised; `--require-full-coverage` makes anything unexercised fail the run.
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "scenario/coverage.h"
#include "scenario/runner.h"
#include "scenario/scenario.h"
#include "tools/flowgate/command.h"
#include "tools/flowgate/sections.h"

namespace flowgate::cli {
namespace {

struct TestArgs {
  std::vector<std::string> files;
  bool coverage = false;
  bool require_full = false;
};

void print_coverage(const scenario::Coverage& coverage) {
  for (const auto& c : coverage.report()) {
    std::cout << fmt::format("coverage of {} ({}):\n", c.workflow, c.file);
    for (const char* kind : {"state", "transition", "gate outcome", "clock outcome"}) {
      std::size_t total = c.total(kind);
      std::size_t covered = c.covered(kind);
      std::string pct = total == 0 ? "-" : fmt::format("{}%", covered * 100 / total);
      std::cout << fmt::format("  {:<15} {:>4}/{:<4} {}\n", std::string(kind) + "s", covered, total,
                               pct);
    }
    bool header = false;
    for (const auto& i : c.items) {
      if (i.covered) continue;
      if (!header) std::cout << "  not exercised:\n";
      header = true;
      std::string where = i.where.line > 0 ? "  (" + i.where.to_string() + ")" : "";
      std::cout << fmt::format("    {:<14} {}{}\n", i.kind, i.label, where);
    }
  }
}

int run_tests(const TestArgs& args) {
  const SectionRegistry& sections = cli_sections();
  scenario::RunOptions options;
  options.hooks = cli_hooks();
  options.sections = &sections;
  scenario::Coverage coverage;
  std::size_t passed = 0, failed = 0, broken_files = 0;
  for (const auto& path : args.files) {
    auto loaded = scenario::load_scenario_file(path, sections);
    for (const auto& d : loaded.diagnostics.items()) std::cerr << d.to_string() << "\n";
    if (!loaded.ok()) {
      ++broken_files;
      continue;
    }
    coverage.add_workflow(*loaded.file);
    for (const auto& s : loaded.file->scenarios) {
      auto outcome = scenario::run_scenario(*loaded.file, s, options);
      coverage.record(*loaded.file, outcome.events);
      std::cout << fmt::format("{}  {}: {}\n", outcome.passed ? "PASS" : "FAIL", path, s.name);
      for (const auto& line : outcome.diff) std::cout << line << "\n";
      (outcome.passed ? passed : failed) += 1;
    }
    std::cout.flush();
  }
  bool uncovered = false;
  if (args.coverage || args.require_full) {
    print_coverage(coverage);
    uncovered = !coverage.complete();
    if (uncovered && args.require_full) {
      std::cout << "coverage is incomplete (--require-full-coverage)\n";
    }
  }
  if (broken_files > 0) {
    std::cout << fmt::format("{} scenario file(s) have errors and did not run\n", broken_files);
  }
  std::cout << fmt::format("{} passed, {} failed\n", passed, failed);
  bool ok = failed == 0 && broken_files == 0 && !(uncovered && args.require_full);
  return ok ? kExitOk : kExitRefused;
}

CommandRegistrar test_verb(
    "test", "Run scenario files against a fresh database on the simulated clock",
    [](CLI::App& sub) -> std::function<int()> {
      auto args = std::make_shared<TestArgs>();
      sub.add_option("scenarios", args->files, "Scenario files (docs/scenarios.md)")->required();
      sub.add_flag("--coverage", args->coverage,
                   "List the states, transitions, gate and clock outcomes no scenario exercised");
      sub.add_flag("--require-full-coverage", args->require_full,
                   "Fail (exit 1) when anything is left unexercised (implies --coverage)");
      return [args] { return run_tests(*args); };
    });

}  // namespace
}  // namespace flowgate::cli
