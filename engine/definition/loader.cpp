// The loader's top level: reads the file, refuses what must not be parsed, parses with toml++,
// then runs the model passes (loader_internal.h) and the plugins' section handlers. Every pass
// runs even after errors, so one run reports every problem it can find.
#include "definition/loader.h"

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include <fmt/format.h>

#include "definition/digest.h"
#include "definition/loader_internal.h"

namespace flowgate {

namespace {

using loader::Context;
namespace rule = loader::rule;

// toml++'s messages are precise but terse; these hints say what to do.
std::string syntax_hint(std::string_view description) {
  if (description.find("redefine") != std::string_view::npos) {
    return "each key, and each [table], may be defined only once: merge the two definitions";
  }
  if (description.find("maximum nested value depth") != std::string_view::npos) {
    return "process files need a handful of levels; this looks generated or corrupt";
  }
  return {};
}

// Hands each handler whose sections appear in the file the whole document. A handler that throws
// has a bug; it becomes a diagnostic here so that a bad plugin cannot take the loader down.
void run_section_handlers(const toml::table& root, Workflow& wf, const SectionRegistry& registry,
                          const std::string& file, Diagnostics& diags) {
  for (const auto& handler : registry.handlers()) {
    auto sections = handler->sections();
    bool present = std::any_of(sections.begin(), sections.end(),
                               [&](const std::string& s) { return root.contains(s); });
    if (!present) continue;
    try {
      auto compiled = handler->compile(root, wf, file, diags);
      if (compiled) wf.extensions[handler->name()] = std::move(compiled);
    } catch (const std::exception& e) {
      diags.error(std::string(rule::kPluginFailed), {file, 0, 0},
                  fmt::format("the '{}' plugin failed while reading its sections: {}",
                              handler->name(), e.what()));
    }
  }
}

// `from_file`: whether Workflow::file records `file` (load_workflow_file) or stays "" (text).
LoadResult load(std::string_view text, const std::string& file, const SectionRegistry& registry,
                bool from_file) {
  LoadResult result;
  Context cx(text, file, result.diagnostics);
  if (!loader::prescan(cx)) return result;

  toml::table root;
  try {
    root = toml::parse(text, std::string_view(file));
  } catch (const toml::parse_error& e) {
    cx.error(rule::kTomlSyntax, cx.at(e.source().begin), std::string(e.description()),
             syntax_hint(e.description()));
    return result;
  } catch (const std::exception& e) {
    cx.error(rule::kTomlSyntax, cx.at(0, 0),
             fmt::format("the file could not be parsed: {}", e.what()));
    return result;
  }
  if (root.empty()) {
    cx.error(rule::kFileEmpty, cx.at(1, 1), "the file defines nothing",
             "a process file needs [workflow], [states.<id>] tables and [[transitions]]");
    return result;
  }

  auto wf = std::make_shared<Workflow>();
  if (from_file) wf->file = file;
  wf->source_text = std::string(text);
  wf->content_hash = digest::sha256_hex(text);
  loader::LoadState st(cx, root, *wf);
  const std::vector<std::string> claimed = registry.claimed_sections();
  loader::read_workflow_section(st);
  loader::read_roles(st);
  loader::read_fields(st);
  loader::read_states(st);
  loader::read_transitions(st);
  loader::check_sections(st, claimed);
  wf->finalize();
  loader::compile_expressions(st);
  loader::check_references(st, registry.find("gates") != nullptr);
  loader::check_graph(st);
  loader::check_ambiguity(st);
  run_section_handlers(root, *wf, registry, file, result.diagnostics);
  loader::lint_usage(st, claimed);

  result.diagnostics.sort();
  if (!result.diagnostics.has_errors()) result.workflow = std::move(wf);
  return result;
}

LoadResult refuse(std::string_view rule, const std::string& path, std::string message,
                  std::string hint = {}) {
  LoadResult result;
  result.diagnostics.error(std::string(rule), {path, 0, 0}, std::move(message), std::move(hint));
  return result;
}

}  // namespace

LoadResult load_workflow_text(std::string_view text, const std::string& file,
                              const SectionRegistry& registry) {
  return load(text, file, registry, /*from_file=*/false);
}

LoadResult load_workflow_file(const std::string& path, const SectionRegistry& registry) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::file_status status = fs::status(path, ec);
  if (ec || !fs::exists(status)) {
    return refuse(rule::kFileUnreadable, path, "no such file", "check the path");
  }
  if (fs::is_directory(status)) {
    return refuse(rule::kFileUnreadable, path, "this is a directory, not a process file");
  }
  if (fs::is_regular_file(status)) {
    auto size = fs::file_size(path, ec);
    if (!ec && size > kMaxProcessFileBytes) {
      return refuse(
          rule::kFileTooLarge, path,
          fmt::format("the file is {} bytes; process files are limited to {} bytes (4 MiB)", size,
                      kMaxProcessFileBytes),
          "split the process, or check that this is the file you meant");
    }
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return refuse(rule::kFileUnreadable, path, "the file cannot be opened (permissions?)");
  }
  // Read at most one byte past the limit: a pipe or device may never end.
  std::string text;
  char buffer[64 * 1024];
  while (text.size() <= kMaxProcessFileBytes && in.read(buffer, sizeof buffer).gcount() > 0) {
    text.append(buffer, static_cast<std::size_t>(in.gcount()));
  }
  if (in.bad()) return refuse(rule::kFileUnreadable, path, "reading the file failed");
  if (text.size() > kMaxProcessFileBytes) {
    return refuse(
        rule::kFileTooLarge, path,
        fmt::format("the file is larger than {} bytes (4 MiB), the limit for process files",
                    kMaxProcessFileBytes),
        "split the process, or check that this is the file you meant");
  }
  return load(text, path, registry, /*from_file=*/true);
}

}  // namespace flowgate
