#include "tools/flowgate/sections.h"

namespace flowgate::cli {

const SectionRegistry& cli_sections() {
  // No built-in plugin claims sections yet; plugin handlers are added here as they land.
  static const SectionRegistry registry;
  return registry;
}

}  // namespace flowgate::cli
