#include "definition/section_registry.h"

#include <algorithm>
#include <stdexcept>

namespace flowgate {

namespace {
// The core sections the loader itself reads; no plugin may claim them.
constexpr std::string_view kCoreSections[] = {"workflow", "roles", "data", "states", "transitions"};
}  // namespace

// Registration happens at start-up from code, so a conflicting claim is a programming error.
void SectionRegistry::add(std::shared_ptr<const SectionHandler> handler) {
  if (!handler) throw std::invalid_argument("SectionRegistry::add: null handler");
  for (const std::string& section : handler->sections()) {
    if (std::find(std::begin(kCoreSections), std::end(kCoreSections), section) !=
        std::end(kCoreSections)) {
      throw std::invalid_argument("plugin '" + handler->name() + "' claims the core section '" +
                                  section + "'");
    }
    if (const SectionHandler* other = find(section)) {
      throw std::invalid_argument("plugins '" + other->name() + "' and '" + handler->name() +
                                  "' both claim the section '" + section + "'");
    }
  }
  handlers_.push_back(std::move(handler));
}

const SectionHandler* SectionRegistry::find(std::string_view section) const {
  for (const auto& handler : handlers_) {
    for (const std::string& claimed : handler->sections()) {
      if (claimed == section) return handler.get();
    }
  }
  return nullptr;
}

std::vector<std::string> SectionRegistry::claimed_sections() const {
  std::vector<std::string> out;
  for (const auto& handler : handlers_) {
    for (std::string& section : handler->sections()) out.push_back(std::move(section));
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace flowgate
