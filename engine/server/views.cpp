#include "server/views.h"

#include "definition/value.h"

namespace flowgate::server {

using nlohmann::json;

json event_json(const EventRecord& e) {
  return {{"position", e.position},
          {"instance_id", e.instance_id},
          {"seq", e.seq},
          {"at", format_datetime_ms(e.at_ms)},
          {"type", e.type},
          {"actor", e.actor},
          {"body", e.body},
          {"request_id", e.request_id},
          {"prev_hash", e.prev_hash},
          {"hash", e.hash}};
}

json workflow_summary(const Workflow& wf) {
  json j = {{"id", wf.id},
            {"name", wf.name},
            {"version", wf.version},
            {"content_hash", wf.content_hash},
            {"initial", wf.initial},
            {"states", wf.states.size()},
            {"transitions", wf.transitions.size()}};
  if (!wf.description.empty()) j["description"] = wf.description;
  return j;
}

json workflow_detail(const Workflow& wf) {
  json j = workflow_summary(wf);
  j["file"] = wf.file;
  json roles = json::array();
  for (const auto& r : wf.roles) roles.push_back({{"id", r.id}, {"description", r.description}});
  j["roles"] = std::move(roles);
  json fields = json::array();
  for (const auto& f : wf.fields) {
    json fj = {
        {"name", f.name}, {"type", std::string(type_name(f.type))}, {"required", f.required}};
    if (f.default_value) fj["default"] = f.default_value->to_json();
    if (f.min) fj["min"] = f.min->to_json();
    if (f.max) fj["max"] = f.max->to_json();
    if (!f.pattern.empty()) fj["pattern"] = f.pattern;
    if (!f.enum_values.empty()) fj["values"] = f.enum_values;
    if (!f.currency.empty()) fj["currency"] = f.currency;
    if (!f.description.empty()) fj["description"] = f.description;
    fields.push_back(std::move(fj));
  }
  j["fields"] = std::move(fields);
  json states = json::array();
  for (const auto& s : wf.states) {
    json sj = {{"id", s.id}, {"name", s.name}, {"terminal", s.terminal}};
    if (!s.stage.empty()) sj["stage"] = s.stage;
    if (!s.owner.empty()) sj["owner"] = s.owner;
    if (!s.description.empty()) sj["description"] = s.description;
    states.push_back(std::move(sj));
  }
  j["states"] = std::move(states);
  json transitions = json::array();
  for (const auto& t : wf.transitions) {
    json tj = {{"index", t.index}, {"event", t.event}, {"to", t.to}};
    tj["from"] = t.from_any ? json("*") : json(t.from);
    if (t.guard) tj["guard"] = t.guard->source();
    if (!t.roles.empty()) tj["roles"] = t.roles;
    if (t.priority != 0) tj["priority"] = t.priority;
    if (!t.gate.empty()) tj["gate"] = t.gate;
    if (!t.payload.empty()) {
      json payload = json::object();
      for (const auto& p : t.payload) {
        std::string type(type_name(p.type));
        if (!p.enum_values.empty()) {
          type = "enum(";
          for (std::size_t i = 0; i < p.enum_values.size(); ++i) {
            type += (i ? "|" : "") + p.enum_values[i];
          }
          type += ")";
        }
        payload[p.name] = type + (p.required ? "" : "?");
      }
      tj["payload"] = std::move(payload);
    }
    if (!t.description.empty()) tj["description"] = t.description;
    transitions.push_back(std::move(tj));
  }
  j["transitions"] = std::move(transitions);
  j["source"] = wf.source_text;
  return j;
}

}  // namespace flowgate::server
