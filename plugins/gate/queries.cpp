#include "plugins/gate/queries.h"

#include <algorithm>

#include "plugins/gate/gate_hooks.h"

namespace flowgate::gate {

using nlohmann::json;

json pending_reviews(std::span<const json> views, const Actor& actor) {
  const std::string who = person_of(actor);
  std::vector<json> out;
  for (const json& view : views) {
    if (view.value("lifecycle", std::string("awaiting_gate")) != "awaiting_gate") continue;
    auto g = view.find("gate");
    if (g == view.end() || !g->is_object()) continue;
    auto open = g->find("open");
    if (open == g->end() || !open->is_object()) continue;
    const std::string submitter = open->value("submitter", std::string());
    if (submitter == who || submitter == actor.principal) continue;
    bool voted = false;
    for (const json& v : open->value("votes", json::array())) {
      if (v.value("voter", std::string()) == who) voted = true;
    }
    if (voted) continue;
    std::vector<std::string> seats;
    for (const json& seat : open->value("seats", json::array())) {
      std::string role = seat.value("role", std::string());
      std::size_t taken = seat.value("voted_by", json::array()).size();
      if (static_cast<std::int64_t>(taken) < seat.value("seats", std::int64_t{1}) &&
          actor.has_any_role({role})) {
        seats.push_back(role);
      }
    }
    if (seats.empty()) continue;
    json item = {{"instance_id", view.value("instance_id", std::string())},
                 {"workflow", view.value("workflow", std::string())},
                 {"state", view.value("state", std::string())},
                 {"gate", open->value("gate", std::string())},
                 {"name", open->value("name", std::string())},
                 {"round", open->value("round", 0)},
                 {"transition", open->value("transition", json::object())},
                 {"submitter", submitter},
                 {"opened_at", open->value("opened_at", std::string())},
                 {"your_seats", seats},
                 {"votes", open->value("votes", json::array()).size()},
                 {"outcome", open->value("outcome", json::object())}};
    if (open->contains("revisit_on")) item["revisit_on"] = (*open)["revisit_on"];
    out.push_back(std::move(item));
  }
  std::sort(out.begin(), out.end(), [](const json& a, const json& b) {
    return std::make_pair(a["opened_at"].get<std::string>(), a["instance_id"].get<std::string>()) <
           std::make_pair(b["opened_at"].get<std::string>(), b["instance_id"].get<std::string>());
  });
  return json(std::move(out));
}

Result<json> pending_reviews(Engine& engine, const Actor& actor, const std::string& workflow_id) {
  InstanceFilter filter;
  filter.workflow_id = workflow_id;
  filter.lifecycle = "awaiting_gate";
  filter.limit = 500;
  std::vector<json> views;
  for (;;) {
    auto page = engine.list(filter);
    if (!page) return fail(page.error());
    for (const json& row : *page) {
      auto view = engine.get(row.value("instance_id", std::string()));
      if (!view) {
        if (view.error().code == ErrorCode::kInstanceNotFound) continue;
        return fail(view.error());
      }
      views.push_back(std::move(*view));
    }
    if (static_cast<std::int64_t>(page->size()) < filter.limit) break;
    filter.after_id = page->back().value("instance_id", std::string());
  }
  return pending_reviews(views, actor);
}

json gate_show(const json& view) {
  json out = {{"instance_id", view.value("instance_id", std::string())},
              {"workflow", view.value("workflow", std::string())},
              {"state", view.value("state", std::string())},
              {"lifecycle", view.value("lifecycle", std::string())},
              {"rounds", json::object()},
              {"open", nullptr}};
  if (auto g = view.find("gate"); g != view.end() && g->is_object()) {
    for (const char* key : {"rounds", "open", "last"}) {
      if (g->contains(key)) out[key] = (*g)[key];
    }
  }
  return out;
}

Result<json> gate_show(Engine& engine, const std::string& instance_id) {
  auto view = engine.get(instance_id);
  if (!view) return fail(view.error());
  return gate_show(*view);
}

}  // namespace flowgate::gate
