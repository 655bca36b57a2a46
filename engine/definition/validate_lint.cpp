// Lint warnings about usage: data fields nothing uses, and transitions anyone may fire in a
// workflow that declares roles.
//
// A data field counts as used when any of these holds (docs/process-files.md):
// - a guard or a `set` expression reads it, or a `set` assigns it (a field that is only written
//   is still output the process records);
// - it is required (callers must supply it when they start an instance);
// - a transition's payload has a field of the same name (the value travels with the command);
// - its name appears as a word in a string of a plugin section (e.g. an SLA condition), since
//   plugins compile those themselves.
#include <algorithm>
#include <vector>

#include <fmt/format.h>

#include "definition/loader_internal.h"

namespace flowgate::loader {

namespace {

bool is_word_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// Every identifier-like word in the strings (and keys) below `section`.
void collect_words(const toml::node& section, std::set<std::string>& words) {
  auto add_words = [&](std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
      while (i < s.size() && !is_word_char(s[i])) ++i;
      std::size_t start = i;
      while (i < s.size() && is_word_char(s[i])) ++i;
      if (i > start) words.emplace(s.substr(start, i - start));
    }
  };
  // Iterative: plugin sections are not bounded in depth by the core format (the prescan bounds
  // the whole file).
  std::vector<const toml::node*> stack{&section};
  while (!stack.empty()) {
    const toml::node* n = stack.back();
    stack.pop_back();
    if (const auto* s = n->as_string()) {
      add_words(s->get());
    } else if (const auto* t = n->as_table()) {
      for (auto&& [key, value] : *t) {
        add_words(key.str());
        stack.push_back(&value);
      }
    } else if (const auto* a = n->as_array()) {
      for (const toml::node& item : *a) stack.push_back(&item);
    }
  }
}

}  // namespace

void lint_usage(LoadState& st, const std::vector<std::string>& claimed) {
  Context& cx = st.cx;
  const Workflow& wf = st.wf;
  std::set<std::string> plugin_words;
  for (const std::string& section : claimed) {
    if (const toml::node* n = st.root.get(section)) collect_words(*n, plugin_words);
  }
  std::set<std::string> payload_names;
  for (const TransitionDef& tr : wf.transitions) {
    for (const PayloadField& p : tr.payload) payload_names.insert(p.name);
  }
  for (const FieldDef& f : wf.fields) {
    if (f.required || st.fields_used.count(f.name) || payload_names.count(f.name) ||
        plugin_words.count(f.name)) {
      continue;
    }
    cx.warning(
        rule::kLintFieldUnused, f.where,
        fmt::format("data field '{}' is never used: no guard or set reads or writes it, it is "
                    "not required, and no payload field or plugin section names it",
                    f.name),
        "remove it, or use it in a guard, a set or a payload");
  }
  if (wf.roles.empty()) return;
  for (std::size_t i = 0; i < wf.transitions.size(); ++i) {
    const TransitionDef& tr = wf.transitions[i];
    if (!tr.roles.empty() || st.tnodes[i].table == nullptr) continue;
    cx.warning(
        rule::kLintTransitionNoRoles, tr.where,
        fmt::format("{} has no roles: anyone may fire it, although the workflow declares roles",
                    describe_transition(st, i)),
        "list who may fire it, e.g. roles = [\"AR\"]");
  }
}

}  // namespace flowgate::loader
