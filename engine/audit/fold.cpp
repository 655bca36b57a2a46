#include "audit/fold.h"

#include <algorithm>

#include <fmt/format.h>
#include "audit/event_body.h"

#include "definition/value.h"
#include "runtime/decide.h"

namespace flowgate::audit {
namespace {

std::string short_json(const nlohmann::json& j) {
  std::string s = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (s.size() > 120) s = s.substr(0, 117) + "...";
  return s;
}

// Appends `s` as a JSON string exactly as nlohmann's dump (non-ASCII unescaped, invalid UTF-8
// replaced) writes it: directly when nothing in it needs escaping, else through nlohmann.
void append_json_string(std::string& out, std::string_view s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c == '"' || c == '\\' || c >= 0x80) {
      out += nlohmann::json(std::string(s))
                 .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      return;
    }
  }
  out += '"';
  out += s;
  out += '"';
}

// The workflow's fields in the order of nlohmann's object (std::map<std::string, json>), sorted
// once per definition: verify writes the data of every instance.
const std::vector<std::size_t>& fields_by_name(const Workflow& wf) {
  thread_local const Workflow* cached = nullptr;
  thread_local std::size_t cached_size = 0;
  thread_local std::vector<std::size_t> order;
  if (cached != &wf || cached_size != wf.fields.size()) {
    order.resize(wf.fields.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(),
              [&](std::size_t a, std::size_t b) { return wf.fields[a].name < wf.fields[b].name; });
    cached = &wf;
    cached_size = wf.fields.size();
  }
  return order;
}

// data_to_json(data, wf).dump() as the store writes it (compact, keys sorted, non-ASCII
// unescaped), written field by field without building the object: verify compares it with every
// instance row.
std::string data_text(const std::vector<Value>& data, const Workflow& wf) {
  std::string out = "{";
  for (std::size_t i : fields_by_name(wf)) {
    if (i >= data.size() || data[i].is_null()) continue;
    if (out.size() > 1) out += ',';
    append_json_string(out, wf.fields[i].name);
    out += ':';
    const Value& v = data[i];
    if (v.type() == Type::kBool) {
      out += v.as_bool() ? "true" : "false";
    } else if (v.type() == Type::kInt) {
      out += fmt::format_int(v.as_int()).c_str();
    } else if (v.type() == Type::kString || v.type() == Type::kEnum) {
      append_json_string(out, v.as_string());
    } else {
      append_json_string(out, v.to_string());
    }
  }
  out += '}';
  return out;
}

}  // namespace

std::optional<FoldError> fold_event(FoldState& f, const Event& e, std::int64_t at_ms,
                                    const DefinitionSet& defs, const HookSet* hooks) {
  const Workflow* wf = f.workflow;
  if (e.type == events::kInstanceStarted || e.type == events::kMigrated) {
    const bool start = e.type == events::kInstanceStarted;
    if (start && f.started) {
      return FoldError{FoldError::Kind::kMalformed, "a second instance_started event"};
    }
    std::string id = start ? e.body.value("workflow", std::string()) : f.state.workflow_id;
    const char* version_key = start ? "version" : "to_version";
    if (!e.body.contains(version_key) || !e.body[version_key].is_number_integer()) {
      return FoldError{FoldError::Kind::kMalformed, fmt::format("`{}` is missing", version_key)};
    }
    int version = e.body[version_key].get<int>();
    const LoadedDefinition* def = defs.find(id, version);
    if (def == nullptr) {
      return FoldError{FoldError::Kind::kMalformed,
                       fmt::format("it is pinned to {} v{}, which is not stored", id, version)};
    }
    std::string recorded = e.body.value("definition_hash", std::string());
    if (recorded != def->stored.content_hash) {
      return FoldError{FoldError::Kind::kMalformed,
                       fmt::format("it records definition hash {} for {} v{}, the stored "
                                   "definition's hash is {}",
                                   recorded, id, version, def->stored.content_hash)};
    }
    if (!def->workflow) {
      return FoldError{FoldError::Kind::kUnavailable,
                       fmt::format("{} v{} is unusable: {}", id, version, def->problem)};
    }
    wf = def->workflow.get();
  } else if (!f.started) {
    return FoldError{FoldError::Kind::kMalformed,
                     "the history does not begin with instance_started"};
  }
  if (wf == nullptr) return FoldError{FoldError::Kind::kUnavailable, "no usable definition"};
  auto ok = apply(f.state, e, *wf, at_ms, hooks);
  if (!ok) return FoldError{FoldError::Kind::kMalformed, ok.error().message};
  f.workflow = wf;
  f.started = true;
  return std::nullopt;
}

std::optional<FoldError> fold_event_text(FoldState& f, std::string_view type, std::string_view body,
                                         std::int64_t at_ms, const DefinitionSet& defs,
                                         const HookSet* hooks) {
  if (f.started && f.workflow && apply_from_text(f.state, type, body, *f.workflow, at_ms)) {
    return std::nullopt;
  }
  Event e;
  e.type = std::string(type);
  if (!parse_body_for_apply(type, body, e.body)) {
    return FoldError{FoldError::Kind::kMalformed, "its body is not a JSON object"};
  }
  return fold_event(f, e, at_ms, defs, hooks);
}

bool agrees_with_snapshot_text(const FoldState& f, const SnapshotText& snap) {
  if (!f.workflow) return false;
  const InstanceState& s = f.state;
  if (s.workflow_id != snap.workflow_id || s.version != snap.version || s.state != snap.state ||
      lifecycle_name(s.lifecycle) != snap.lifecycle || s.business_key != snap.business_key ||
      s.created_ms != snap.created_ms || s.updated_ms != snap.updated_ms) {
    return false;
  }
  return data_text(s.data, *f.workflow) == snap.data &&
         s.extra.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) == snap.extra;
}

std::vector<std::string> compare_with_snapshot(const FoldState& f, const std::string& head_hash,
                                               const InstanceSnapshot& snap) {
  std::vector<std::string> diffs;
  if (!f.workflow) return diffs;
  InstanceSnapshot folded = to_snapshot(f.state, *f.workflow);
  auto differ = [&](std::string_view what, const std::string& a, const std::string& b) {
    if (a != b) {
      diffs.push_back(fmt::format("{}: the events give `{}`, the snapshot has `{}`", what, a, b));
    }
  };
  differ("workflow", folded.workflow_id, snap.workflow_id);
  differ("version", std::to_string(folded.version), std::to_string(snap.version));
  differ("state", folded.state, snap.state);
  differ("lifecycle", folded.lifecycle, snap.lifecycle);
  differ("business_key", folded.business_key, snap.business_key);
  if (!head_hash.empty()) {
    differ("last_seq", std::to_string(folded.last_seq), std::to_string(snap.last_seq));
    differ("head_hash", head_hash, snap.head_hash);
  }
  differ("created_at", format_datetime_ms(folded.created_ms), format_datetime_ms(snap.created_ms));
  differ("updated_at", format_datetime_ms(folded.updated_ms), format_datetime_ms(snap.updated_ms));
  if (folded.data != snap.data) {
    for (const auto& [k, v] : folded.data.items()) {
      if (!snap.data.contains(k) || snap.data[k] != v) {
        diffs.push_back(fmt::format("data.{}: the events give {}, the snapshot has {}", k,
                                    short_json(v),
                                    snap.data.contains(k) ? short_json(snap.data[k]) : "nothing"));
      }
    }
    for (const auto& [k, v] : snap.data.items()) {
      if (!folded.data.contains(k)) {
        diffs.push_back(
            fmt::format("data.{}: the events give nothing, the snapshot has {}", k, short_json(v)));
      }
    }
  }
  if (folded.extra != snap.extra) {
    diffs.push_back(fmt::format("extra: the events give {}, the snapshot has {}",
                                short_json(folded.extra), short_json(snap.extra)));
  }
  return diffs;
}

}  // namespace flowgate::audit
