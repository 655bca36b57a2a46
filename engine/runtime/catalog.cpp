#include "runtime/catalog.h"

#include <algorithm>
#include <filesystem>
#include <mutex>

#include <fmt/format.h>

#include "definition/loader.h"

namespace flowgate {

void Catalog::add(std::shared_ptr<const Workflow> wf) {
  std::unique_lock lock(mu_);
  by_id_[wf->id][wf->version] = std::move(wf);
}

std::shared_ptr<const Workflow> Catalog::latest(const std::string& id) const {
  std::shared_lock lock(mu_);
  auto it = by_id_.find(id);
  if (it == by_id_.end() || it->second.empty()) return nullptr;
  return it->second.rbegin()->second;
}

std::shared_ptr<const Workflow> Catalog::get(const std::string& id, int version) const {
  std::shared_lock lock(mu_);
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return nullptr;
  auto v = it->second.find(version);
  return v == it->second.end() ? nullptr : v->second;
}

std::vector<std::shared_ptr<const Workflow>> Catalog::latest_all() const {
  std::shared_lock lock(mu_);
  std::vector<std::shared_ptr<const Workflow>> out;
  for (const auto& [id, versions] : by_id_) {
    if (!versions.empty()) out.push_back(versions.rbegin()->second);
  }
  return out;
}

std::vector<std::shared_ptr<const Workflow>> Catalog::all() const {
  std::shared_lock lock(mu_);
  std::vector<std::shared_ptr<const Workflow>> out;
  for (const auto& [id, versions] : by_id_) {
    for (const auto& [v, wf] : versions) out.push_back(wf);
  }
  return out;
}

std::vector<std::string> Catalog::ids() const {
  std::shared_lock lock(mu_);
  std::vector<std::string> out;
  for (const auto& [id, versions] : by_id_) out.push_back(id);
  return out;
}

std::size_t load_workflow_dir(const std::string& dir, const SectionRegistry& sections,
                              Catalog& catalog, Diagnostics& diags) {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::vector<std::string> files;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().extension() == ".toml" && it->is_regular_file(ec)) files.push_back(it->path());
  }
  if (ec) {
    diags.error("WORKFLOW-DIR", {dir, 0, 0},
                fmt::format("cannot read the workflow directory: {}", ec.message()));
    return 0;
  }
  std::sort(files.begin(), files.end());
  std::map<std::pair<std::string, int>, std::string> seen;
  std::size_t loaded = 0;
  for (const auto& file : files) {
    LoadResult r = load_workflow_file(file, sections);
    diags.append(r.diagnostics);
    if (!r.ok()) continue;
    auto key = std::make_pair(r.workflow->id, r.workflow->version);
    if (auto prev = seen.find(key); prev != seen.end()) {
      diags.error("WORKFLOW-DUPLICATE", {file, 1, 1},
                  fmt::format("workflow `{}` version {} is also defined in {}", key.first,
                              key.second, prev->second),
                  "give each file its own workflow id, or bump [workflow].version");
      continue;
    }
    seen.emplace(key, file);
    catalog.add(r.workflow);
    ++loaded;
  }
  return loaded;
}

}  // namespace flowgate
