#include "definition/workflow.h"

#include <algorithm>

namespace flowgate {

namespace {
// finalize() files `from = "*"` transitions under this pseudo state (never a valid state id), so
// the index stays linear in the file's size however many states there are.
constexpr std::string_view kAnyState = "*";

bool ranks_before(const TransitionDef& a, const TransitionDef& b) {
  if (a.priority != b.priority) return a.priority > b.priority;
  return a.index < b.index;
}
}  // namespace

// A `from = "*"` transition leaves every state here; Workflow::candidates() excludes terminal
// states, which a TransitionDef alone cannot know.
bool TransitionDef::leaves(const std::string& state) const {
  return from_any || std::find(from.begin(), from.end(), state) != from.end();
}

const FieldDef* Workflow::field(std::string_view name) const {
  auto index = field_index(name);
  return index ? &fields[*index] : nullptr;
}

std::optional<std::size_t> Workflow::field_index(std::string_view name) const {
  auto it = field_by_name_.find(std::string(name));
  if (it == field_by_name_.end()) return std::nullopt;
  return it->second;
}

const StateDef* Workflow::state(std::string_view id) const {
  auto it = state_by_id_.find(std::string(id));
  return it == state_by_id_.end() ? nullptr : &states[it->second];
}

bool Workflow::has_role(std::string_view id) const {
  return std::any_of(roles.begin(), roles.end(), [&](const RoleDef& r) { return r.id == id; });
}

std::vector<const TransitionDef*> Workflow::candidates(std::string_view state,
                                                       std::string_view event) const {
  std::vector<const TransitionDef*> out;
  const StateDef* s = this->state(state);
  if (s == nullptr) return out;
  auto collect = [&](std::string_view source) {
    auto it = by_source_event_.find(std::pair<std::string, std::string>(source, event));
    if (it == by_source_event_.end()) return;
    for (std::size_t i : it->second) out.push_back(&transitions[i]);
  };
  collect(state);
  if (!s->terminal) collect(kAnyState);
  std::stable_sort(out.begin(), out.end(), [](const TransitionDef* a, const TransitionDef* b) {
    return ranks_before(*a, *b);
  });
  return out;
}

std::vector<std::string> Workflow::events_from(std::string_view state) const {
  std::vector<std::string> out;
  const StateDef* s = this->state(state);
  if (s == nullptr) return out;
  auto collect = [&](std::string_view source) {
    auto it = by_source_event_.lower_bound(std::pair<std::string, std::string>(source, ""));
    for (; it != by_source_event_.end() && it->first.first == source; ++it) {
      out.push_back(it->first.second);
    }
  };
  collect(state);
  if (!s->terminal) collect(kAnyState);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Scope Workflow::data_scope() const {
  Scope scope;
  scope.data.reserve(fields.size());
  for (const FieldDef& f : fields) scope.data.push_back({f.name, f.type, f.enum_values});
  return scope;
}

void Workflow::finalize() {
  field_by_name_.clear();
  state_by_id_.clear();
  by_source_event_.clear();
  for (std::size_t i = 0; i < fields.size(); ++i) field_by_name_.emplace(fields[i].name, i);
  for (std::size_t i = 0; i < states.size(); ++i) state_by_id_.emplace(states[i].id, i);
  for (std::size_t i = 0; i < transitions.size(); ++i) {
    const TransitionDef& t = transitions[i];
    if (t.from_any) {
      by_source_event_[{std::string(kAnyState), t.event}].push_back(i);
      continue;
    }
    for (const std::string& source : t.from) {
      auto& list = by_source_event_[{source, t.event}];
      // A state listed twice in `from` is a validation error; the index still lists it once.
      if (std::find(list.begin(), list.end(), i) == list.end()) list.push_back(i);
    }
  }
  for (auto& [key, list] : by_source_event_) {
    std::stable_sort(list.begin(), list.end(), [this](std::size_t a, std::size_t b) {
      return ranks_before(transitions[a], transitions[b]);
    });
  }
}

}  // namespace flowgate
