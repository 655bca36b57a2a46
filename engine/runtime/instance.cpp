#include "runtime/instance.h"

#include <fmt/format.h>

#include "util/diagnostic.h"

namespace flowgate {

nlohmann::json data_to_json(const std::vector<Value>& data, const Workflow& wf) {
  nlohmann::json j = nlohmann::json::object();
  for (std::size_t i = 0; i < data.size() && i < wf.fields.size(); ++i) {
    if (!data[i].is_null()) j[wf.fields[i].name] = data[i].to_json();
  }
  return j;
}

Result<std::vector<Value>> data_from_json(const nlohmann::json& j, const Workflow& wf) {
  std::vector<Value> data(wf.fields.size());
  if (j.is_null()) return data;
  if (!j.is_object()) return fail(ErrorCode::kInvalidData, "data must be a JSON object");
  for (const auto& [key, value] : j.items()) {
    auto idx = wf.field_index(key);
    if (!idx) {
      std::vector<std::string> names;
      for (const auto& f : wf.fields) names.push_back(f.name);
      Error e(ErrorCode::kInvalidData,
              fmt::format("workflow `{}` has no data field `{}`", wf.id, key));
      std::string near = closest_match(key, names);
      if (!near.empty()) e.hint = fmt::format("did you mean `{}`?", near);
      e.data["field"] = key;
      return fail(std::move(e));
    }
    if (value.is_null()) continue;
    auto v = Value::from_json(value, wf.fields[*idx].type);
    if (!v) {
      return fail(Error(ErrorCode::kInvalidData,
                        fmt::format("field `{}` must be {}: {}", key,
                                    type_name(wf.fields[*idx].type), v.error().message))
                      .with_data("field", key));
    }
    data[*idx] = std::move(*v);
  }
  return data;
}

InstanceSnapshot to_snapshot(const InstanceState& s, const Workflow& wf) {
  InstanceSnapshot snap;
  snap.instance_id = s.id;
  snap.workflow_id = s.workflow_id;
  snap.version = s.version;
  snap.state = s.state;
  snap.lifecycle = std::string(lifecycle_name(s.lifecycle));
  snap.data = data_to_json(s.data, wf);
  snap.extra = s.extra;
  snap.business_key = s.business_key;
  snap.last_seq = s.last_seq;
  snap.created_ms = s.created_ms;
  snap.updated_ms = s.updated_ms;
  snap.head_hash = s.head_hash;
  return snap;
}

Result<InstanceState> from_snapshot(const InstanceSnapshot& snap, const Workflow& wf) {
  InstanceState s;
  s.id = snap.instance_id;
  s.workflow_id = snap.workflow_id;
  s.version = snap.version;
  s.state = snap.state;
  auto lc = parse_lifecycle(snap.lifecycle);
  if (!lc) {
    return fail(ErrorCode::kStorage, fmt::format("instance {} has an unknown lifecycle `{}`",
                                                 snap.instance_id, snap.lifecycle));
  }
  s.lifecycle = *lc;
  auto data = data_from_json(snap.data, wf);
  if (!data) return fail(data.error());
  s.data = std::move(*data);
  s.business_key = snap.business_key;
  s.last_seq = snap.last_seq;
  s.created_ms = snap.created_ms;
  s.updated_ms = snap.updated_ms;
  s.head_hash = snap.head_hash;
  s.extra = snap.extra;
  return s;
}

nlohmann::json instance_view(const InstanceSnapshot& snap) {
  nlohmann::json j = {{"instance_id", snap.instance_id},
                      {"workflow", snap.workflow_id},
                      {"workflow_version", snap.version},
                      {"version", snap.last_seq},
                      {"state", snap.state},
                      {"lifecycle", snap.lifecycle},
                      {"data", snap.data},
                      {"created_at", format_datetime_ms(snap.created_ms)},
                      {"updated_at", format_datetime_ms(snap.updated_ms)}};
  if (!snap.business_key.empty()) j["business_key"] = snap.business_key;
  return j;
}

}  // namespace flowgate
