// The section handlers the CLI loads process files with. Built-in plugins register their handlers
// here (in sections.cpp), so every verb that loads a workflow sees the same sections.
// Thread-safety: built on first use (thread-safe static); read-only afterwards.
#pragma once

#include "definition/section_registry.h"

namespace flowgate::cli {

const SectionRegistry& cli_sections();

}  // namespace flowgate::cli
