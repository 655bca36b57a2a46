// Transitions that compete: two transitions leaving the same state on the same event at the same
// priority. When both can match, which one fires is undefined, so:
// - both unguarded, one unguarded, or the same guard text → TRANSITION-AMBIGUOUS (an error: an
//   unguarded transition matches whenever the other's guard does);
// - two different guards that are_exclusive() cannot prove disjoint → LINT-GUARDS-MAY-OVERLAP.
// Each pair is reported once, however many states it shares. `from = "*"` transitions are grouped
// once for all states, so the work stays proportional to the file, not states × transitions.
#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include <fmt/format.h>

#include "definition/loader_internal.h"

namespace flowgate::loader {

namespace {

// Larger groups are not compared pairwise (quadratic); one warning says so instead.
constexpr std::size_t kMaxPairwiseGroup = 64;

class AmbiguityCheck {
 public:
  explicit AmbiguityCheck(LoadState& st) : st_(st) {}

  // Compares every pair of `group` (and, when given, each member of `group` with each of
  // `others`), all leaving `where_text` on the same event at the same priority.
  void check_group(const std::vector<std::size_t>& group, const std::vector<std::size_t>& others,
                   const std::string& where_text) {
    if (group.size() + others.size() > kMaxPairwiseGroup) {
      report_large_group(group, others, where_text);
      return;
    }
    for (std::size_t a = 0; a < group.size(); ++a) {
      for (std::size_t b = a + 1; b < group.size(); ++b) compare(group[a], group[b], where_text);
      for (std::size_t other : others) compare(group[a], other, where_text);
    }
  }

 private:
  bool unguarded(std::size_t i) const {
    return st_.tnodes[i].guard == nullptr && !st_.wf.transitions[i].guard;
  }

  // Too many to compare pairwise. An unguarded member still competes with every other member, so
  // that case stays an error; otherwise one warning says the group was not checked.
  void report_large_group(const std::vector<std::size_t>& group,
                          const std::vector<std::size_t>& others, const std::string& where_text) {
    const TransitionDef& first = st_.wf.transitions[group.front()];
    std::size_t total = group.size() + others.size();
    std::size_t free = static_cast<std::size_t>(
        std::count_if(group.begin(), group.end(), [this](std::size_t i) { return unguarded(i); }));
    free += static_cast<std::size_t>(std::count_if(others.begin(), others.end(),
                                                   [this](std::size_t i) { return unguarded(i); }));
    if (free > 0) {
      st_.cx.error(rule::kTransitionAmbiguous, first.where,
                   fmt::format("{} transitions leave {} on '{}' at priority {}, and {} of them "
                               "have no guard",
                               total, where_text, first.event, first.priority, free),
                   "give the one that should win a higher priority, or guards that cannot both "
                   "be true");
      return;
    }
    st_.cx.warning(rule::kLintGuardsMayOverlap, first.where,
                   fmt::format("{} transitions leave {} on '{}' at priority {}; too many to check "
                               "their guards pairwise",
                               total, where_text, first.event, first.priority),
                   "split them by priority, or check by hand that at most one can match");
  }

  void compare(std::size_t i, std::size_t j, const std::string& where_text) {
    if (i > j) std::swap(i, j);
    if (!checked_.emplace(i, j).second) return;
    const TransitionDef& a = st_.wf.transitions[i];
    const TransitionDef& b = st_.wf.transitions[j];
    // A guard that failed to compile was reported already; nothing can be said about it.
    bool a_broken = st_.tnodes[i].guard != nullptr && !a.guard;
    bool b_broken = st_.tnodes[j].guard != nullptr && !b.guard;
    if (a_broken || b_broken) return;
    const std::string what =
        fmt::format("{} and {} both leave {} on '{}' at priority {}", describe_transition(st_, i),
                    describe_transition(st_, j), where_text, a.event, a.priority);
    const std::string hint =
        "give the one that should win a higher priority, or guards that cannot both be true";
    if (!a.guard && !b.guard) {
      st_.cx.error(rule::kTransitionAmbiguous, b.where, what + ", and neither has a guard", hint);
    } else if (!a.guard || !b.guard) {
      st_.cx.error(
          rule::kTransitionAmbiguous, b.where,
          fmt::format("{}; {} has no guard, so it matches whenever the other's does", what,
                      describe_transition(st_, a.guard ? j : i)),
          "give the guarded transition a higher priority: it then wins when its guard holds");
    } else if (a.guard->source() == b.guard->source()) {
      st_.cx.error(rule::kTransitionAmbiguous, b.where, what + ", with the same guard", hint);
    } else if (!are_exclusive(*a.guard, *b.guard)) {
      st_.cx.warning(rule::kLintGuardsMayOverlap, b.where,
                     fmt::format("{}, and their guards may both be true (\"{}\" / \"{}\")", what,
                                 excerpt(a.guard->source()), excerpt(b.guard->source())),
                     hint);
    }
  }

  LoadState& st_;
  std::set<std::pair<std::size_t, std::size_t>> checked_;
};

}  // namespace

void check_ambiguity(LoadState& st) {
  const Workflow& wf = st.wf;
  using EventPriority = std::pair<std::string, int>;
  std::map<std::tuple<std::string, std::string, int>, std::vector<std::size_t>> explicit_groups;
  std::map<EventPriority, std::vector<std::size_t>> any_groups;
  for (std::size_t i = 0; i < wf.transitions.size(); ++i) {
    const TransitionDef& tr = wf.transitions[i];
    if (tr.event.empty()) continue;
    if (tr.from_any) {
      any_groups[{tr.event, tr.priority}].push_back(i);
      continue;
    }
    for (const std::string& from : tr.from) {
      const StateDef* s = wf.state(from);
      // Unknown and terminal sources are errors of their own; they never compete.
      if (s == nullptr || s->terminal) continue;
      explicit_groups[{from, tr.event, tr.priority}].push_back(i);
    }
  }
  AmbiguityCheck check(st);
  static const std::vector<std::size_t> kNone;
  for (const auto& [key, group] : any_groups) {
    check.check_group(group, kNone, "every non-terminal state (from = \"*\")");
  }
  for (const auto& [key, group] : explicit_groups) {
    const auto& [state, event, priority] = key;
    auto any = any_groups.find({event, priority});
    check.check_group(group, any == any_groups.end() ? kNone : any->second,
                      fmt::format("'{}'", state));
  }
}

}  // namespace flowgate::loader
