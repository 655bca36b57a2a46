// `flowgate simulate FILE --instances N --seed S [--config SIM.toml]`: drives N synthetic
// instances of a workflow through a scratch database on the simulated clock (engine/scenario/
// simulate.h) and prints the report: funnel, time in stage, outcomes, SLA/OLA on-time rates and
// breaches, escalations, gate outcomes. `--db FILE` keeps the database for `list`, `show`,
// `report`.
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <string>

#include <fmt/format.h>

#include "definition/loader.h"
#include "plugins/gate/report.h"
#include "plugins/sla/report.h"
#include "scenario/simulate.h"
#include "tools/flowgate/command.h"
#include "tools/flowgate/sections.h"

namespace flowgate::cli {
namespace {

struct SimulateArgs {
  std::string file;
  std::int64_t instances = 1000;
  std::uint64_t seed = 1;
  std::string config;
  std::string db;
  std::string format = "table";
  bool quiet = false;
};

// Where the scratch database goes: $TMPDIR when set, else memory (/dev/shm) when there is one
// with room for it — a simulation needs no durability, and a file in memory makes its commits and
// checkpoints cheap. A container's small /dev/shm (often 64 MB) falls back to the temp directory.
std::filesystem::path scratch_root(std::int64_t instances) {
  constexpr std::uintmax_t kBytesPerInstance = 16 * 1024;  // ~7 KB measured on ITR, with margin
  const char* tmpdir = getenv("TMPDIR");
  if ((tmpdir == nullptr || *tmpdir == '\0') && access("/dev/shm", W_OK | X_OK) == 0) {
    std::error_code ec;
    auto room = std::filesystem::space("/dev/shm", ec);
    auto need =
        static_cast<std::uintmax_t>(std::max<std::int64_t>(instances, 1000)) * kBytesPerInstance;
    if (!ec && room.available >= need) return "/dev/shm";
  }
  return std::filesystem::temp_directory_path();
}

int run_simulate(const SimulateArgs& args) {
  const SectionRegistry& sections = cli_sections();
  LoadResult loaded = load_workflow_file(args.file, sections);
  for (const auto& d : loaded.diagnostics.items()) {
    if (d.severity == Severity::kError) std::cerr << d.to_string() << "\n";
  }
  if (!loaded.ok()) return kExitRefused;
  scenario::SimulationConfig config;
  config.instances = args.instances;
  config.seed = args.seed;
  if (!args.config.empty()) {
    Diagnostics diags;
    if (!scenario::load_simulation_config(args.config, *loaded.workflow, config, diags)) {
      for (const auto& d : diags.items()) std::cerr << d.to_string() << "\n";
      return kExitRefused;
    }
  }
  if (config.instances < 0) {
    std::cerr << "flowgate: --instances must be at least 0\n";
    return kExitUsage;
  }

  std::string scratch;
  scenario::SimulationRun run;
  if (args.db.empty()) {
    std::string pattern = (scratch_root(config.instances) / "flowgate-simulate-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) {
      std::cerr << "flowgate: cannot create a scratch directory for the simulation\n";
      return kExitStorage;
    }
    scratch = pattern;
    run.db_path = scratch + "/simulation.db";
  } else {
    std::error_code ec;
    if (std::filesystem::exists(args.db, ec)) {
      std::cerr << fmt::format("flowgate: {} exists; a simulation writes a new database\n",
                               args.db);
      return kExitUsage;
    }
    run.db_path = args.db;
  }
  run.hooks = cli_hooks();
  run.sections = &sections;
  run.reports.push_back({"sla", [](std::span<const EventRecord> events) {
                           nlohmann::json rows = nlohmann::json::array();
                           for (const auto& r : sla::clock_report(events))
                             rows.push_back(r.to_json());
                           return rows;
                         }});
  run.reports.push_back({"gates", [](std::span<const EventRecord> events) {
                           nlohmann::json rows = nlohmann::json::array();
                           for (const auto& r : gate::gate_report(events))
                             rows.push_back(r.to_json());
                           return rows;
                         }});
  if (!args.quiet) {
    run.progress = [last = std::int64_t{-1}](std::int64_t done, std::int64_t total) mutable {
      std::int64_t pct = total > 0 ? done * 100 / total : 100;
      if (pct / 10 != last / 10) std::cerr << fmt::format("\rarrived: {}% ", pct) << std::flush;
      last = pct;
    };
  }
  auto report = scenario::simulate(loaded.workflow, config, run);
  if (!args.quiet) std::cerr << "\n";
  if (!scratch.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(scratch, ec);
  }
  if (!report) {
    std::cerr << "flowgate: " << report.error().to_string() << "\n";
    return report.error().code >= ErrorCode::kStorage && report.error().code < ErrorCode::kInternal
               ? kExitStorage
               : kExitRefused;
  }
  if (args.format == "json") {
    std::cout << report->dump(2) << "\n";
  } else {
    std::cout << scenario::format_simulation_report(*report);
  }
  return report->value("consistent", false) ? kExitOk : kExitRefused;
}

CommandRegistrar simulate_verb(
    "simulate", "Drive synthetic instances through a workflow and report the numbers",
    [](CLI::App& sub) -> std::function<int()> {
      auto args = std::make_shared<SimulateArgs>();
      sub.add_option("file", args->file, "The process file")->required();
      sub.add_option("--instances,-n", args->instances, "How many instances arrive")
          ->capture_default_str();
      sub.add_option("--seed", args->seed, "Random seed: the same seed gives the same run")
          ->capture_default_str();
      sub.add_option(
          "--config,--weights", args->config,
          "Simulation file: period, delay, [weights], [gate_outcomes] (docs/scenarios.md)");
      sub.add_option("--db", args->db, "Keep the simulated database in this (new) file");
      sub.add_option("--format", args->format, "table or json")
          ->check(CLI::IsMember({"table", "json"}))
          ->capture_default_str();
      sub.add_flag("--quiet,-q", args->quiet, "No progress on stderr");
      return [args] { return run_simulate(*args); };
    });

}  // namespace
}  // namespace flowgate::cli
