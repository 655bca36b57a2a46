// `flowgate validate FILE... [--format text|json] [--strict]` and `flowgate lint FILE...`: load
// each process file, print its diagnostics and a summary line. Exit 0 when every file is clean
// (warnings allowed unless --strict), 1 when any file has errors, 2 on usage errors.
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "definition/loader.h"
#include "tools/flowgate/command.h"
#include "tools/flowgate/sections.h"

namespace flowgate::cli {

namespace {

struct ValidateOptions {
  std::vector<std::string> files;
  std::string format = "text";
  bool strict = false;
};

std::string plural(std::size_t n, std::string_view word) {
  return fmt::format("{} {}{}", n, word, n == 1 ? "" : "s");
}

// "ltc.toml: ok (0 warnings)" / "x.toml: 2 errors, 1 warning".
std::string summary_line(const std::string& file, const Diagnostics& d, bool strict) {
  if (d.has_errors()) {
    return fmt::format("{}: {}, {}", file, plural(d.error_count(), "error"),
                       plural(d.warning_count(), "warning"));
  }
  if (strict && d.warning_count() > 0) {
    return fmt::format("{}: {} (--strict: warnings fail)", file,
                       plural(d.warning_count(), "warning"));
  }
  return fmt::format("{}: ok ({})", file, plural(d.warning_count(), "warning"));
}

nlohmann::json file_report(const std::string& file, const LoadResult& r, bool failed) {
  nlohmann::json diagnostics = nlohmann::json::array();
  for (const Diagnostic& d : r.diagnostics.items()) diagnostics.push_back(d.to_json());
  nlohmann::json j = {{"file", file},
                      {"ok", !failed},
                      {"errors", r.diagnostics.error_count()},
                      {"warnings", r.diagnostics.warning_count()},
                      {"diagnostics", std::move(diagnostics)}};
  if (r.workflow) {
    const Workflow& wf = *r.workflow;
    j["workflow"] = {{"id", wf.id},
                     {"version", wf.version},
                     {"content_hash", wf.content_hash},
                     {"states", wf.states.size()},
                     {"transitions", wf.transitions.size()}};
  }
  return j;
}

int run_validate(const ValidateOptions& options) {
  bool any_failed = false;
  nlohmann::json reports = nlohmann::json::array();
  for (const std::string& file : options.files) {
    LoadResult r = load_workflow_file(file, cli_sections());
    bool failed =
        r.diagnostics.has_errors() || (options.strict && r.diagnostics.warning_count() > 0);
    any_failed |= failed;
    if (options.format == "json") {
      reports.push_back(file_report(file, r, failed));
      continue;
    }
    for (const Diagnostic& d : r.diagnostics.items()) std::cout << d.to_string() << '\n';
    std::cout << summary_line(file, r.diagnostics, options.strict) << '\n';
  }
  if (options.format == "json") {
    nlohmann::json out = {{"ok", !any_failed}, {"strict", options.strict}, {"files", reports}};
    std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
  }
  std::cout.flush();
  return any_failed ? kExitRefused : kExitOk;
}

CommandSetup validate_setup(bool lint) {
  return [lint](CLI::App& sub) -> std::function<int()> {
    auto options = std::make_shared<ValidateOptions>();
    options->strict = lint;
    sub.add_option("files", options->files, "process files (TOML) to check")->required();
    sub.add_option("--format", options->format, "output format: text or json")
        ->check(CLI::IsMember({"text", "json"}));
    if (!lint) sub.add_flag("--strict", options->strict, "treat warnings as errors (exit 1)");
    return [options] { return run_validate(*options); };
  };
}

const CommandRegistrar kValidate("validate",
                                 "check process files: errors and lint warnings with file:line:col",
                                 validate_setup(false));
const CommandRegistrar kLint("lint",
                             "check process files, failing on warnings too (validate --strict)",
                             validate_setup(true));

}  // namespace

}  // namespace flowgate::cli
