// Rebuilding an instance from its recorded events alone: apply() folded over the history, each
// event applied with the definition version the instance was pinned to at that point (from the
// start event, then from each `migrated` event), plugin events by their plugins. Verify and replay
// both fold; verify compares the result with the stored snapshot, replay also re-decides each step.
// Thread-safety: plain values and pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "audit/audit_db.h"
#include "audit/definitions.h"
#include "runtime/command.h"
#include "runtime/hooks.h"
#include "runtime/instance.h"
#include "util/error.h"

namespace flowgate::audit {

struct FoldState {
  InstanceState state;
  const Workflow* workflow = nullptr;  // the pinned definition; null before instance_started
  bool started = false;
};

// Why an event could not be folded. kUnavailable: the pinned definition is missing, altered or
// does not load (reported once as a definition finding, not per instance).
struct FoldError {
  enum class Kind { kMalformed, kUnavailable };
  Kind kind = Kind::kMalformed;
  std::string message;
};

// Applies one recorded event. `state.id` must be set by the caller before the first event.
std::optional<FoldError> fold_event(FoldState& f, const Event& e, std::int64_t at_ms,
                                    const DefinitionSet& defs, const HookSet* hooks);

// fold_event() from the event's stored text. The common core events are applied straight from the
// text (audit/event_body.h, the same result as apply()); the rest are parsed and applied.
std::optional<FoldError> fold_event_text(FoldState& f, std::string_view type, std::string_view body,
                                         std::int64_t at_ms, const DefinitionSet& defs,
                                         const HookSet* hooks);

// Every difference between the fold and the stored snapshot, as "field: the events give X, the
// snapshot has Y" (empty when they agree). `head_hash` is the hash of the newest event; when it is
// empty, last_seq and head_hash are not compared (verify checks them with the chain).
std::vector<std::string> compare_with_snapshot(const FoldState& f, const std::string& head_hash,
                                               const InstanceSnapshot& snap);

// True when the fold equals the stored row byte for byte (data and extra as the store writes them:
// compact JSON, keys sorted, non-ASCII unescaped), on every field compare_with_snapshot() compares
// with an empty head_hash. The store writes exactly that text, so an untouched row agrees without
// parsing its JSON; false means "not certain": compare_with_snapshot() gives the verdict.
bool agrees_with_snapshot_text(const FoldState& f, const SnapshotText& snap);

}  // namespace flowgate::audit
