#include "plugins/gate/gate_hooks.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "plugins/gate/gate_config.h"
#include "plugins/gate/graph_notes.h"
#include "plugins/gate/round.h"
#include "runtime/decide.h"
#include "util/diagnostic.h"

namespace flowgate::gate {

using nlohmann::json;

std::string person_of(const Actor& actor) {
  return actor.on_behalf_of.empty() ? actor.principal : actor.on_behalf_of;
}

namespace {

// A refusal with a stable slug in data["gate_error"] that clients and tests match on.
Error gate_error(ErrorCode code, const char* slug, std::string message, std::string hint = {}) {
  Error e(code, std::move(message));
  e.hint = std::move(hint);
  e.data["gate_error"] = slug;
  return e;
}

std::unexpected<Error> refuse(ErrorCode code, const char* slug, std::string message,
                              std::string hint = {}) {
  return fail(gate_error(code, slug, std::move(message), std::move(hint)));
}

std::unexpected<Error> malformed_event(const Event& e, std::string_view what) {
  return fail(ErrorCode::kStorage, fmt::format("malformed event `{}`: {}", e.type, what));
}

const json& gate_state(const InstanceState& s) {
  static const json empty = json::object();
  auto it = s.extra.find(kPluginName);
  return it == s.extra.end() || !it->is_object() ? empty : *it;
}

bool has_open_round(const InstanceState& s) {
  const json& g = gate_state(s);
  auto it = g.find("open");
  return it != g.end() && it->is_object();
}

Result<Round> open_round(const InstanceState& s) { return Round::from_json(gate_state(s)["open"]); }

std::vector<std::string> gate_ids(const GateConfig* config) {
  std::vector<std::string> ids;
  if (config) {
    for (const GateDef& g : config->gates) ids.push_back(g.id);
  }
  return ids;
}

std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates) {
  std::string near = closest_match(word, candidates);
  if (!near.empty()) return fmt::format("did you mean `{}`?", near);
  if (candidates.empty()) return {};
  return fmt::format("known: {}", fmt::join(candidates, ", "));
}

Error no_open_round(const InstanceState& s, std::string_view what) {
  std::string lifecycle(lifecycle_name(s.lifecycle));
  return gate_error(
      ErrorCode::kGate, "no_open_round",
      fmt::format("cannot {} on {}: it has no open review round (it is {})", what, s.id, lifecycle),
      "a round opens when a gated transition is fired");
}

// Checks `gate` and `round` in a command's payload against the open round.
Result<void> check_round_ref(const json& p, const Round& open, const GateConfig* config,
                             const InstanceState& s) {
  if (auto it = p.find("gate"); it != p.end()) {
    if (!it->is_string()) return fail(ErrorCode::kInvalidPayload, "`gate` must be a string");
    std::string gate = it->get<std::string>();
    if (!config || !config->find(gate)) {
      return refuse(ErrorCode::kGate, "unknown_gate",
                    fmt::format("workflow {} has no gate `{}`", s.workflow_id, gate),
                    did_you_mean(gate, gate_ids(config)));
    }
    if (gate != open.gate) {
      return refuse(ErrorCode::kGate, "no_open_round",
                    fmt::format("{} has no open round of gate `{}`; the open round is {} of `{}`",
                                s.id, gate, open.number, open.gate));
    }
  }
  if (auto it = p.find("round"); it != p.end()) {
    if (!it->is_number_integer()) {
      return fail(ErrorCode::kInvalidPayload, "`round` must be an integer");
    }
    std::int64_t n = it->get<std::int64_t>();
    if (n < open.number) {
      return refuse(ErrorCode::kGate, "round_closed",
                    fmt::format("round {} of gate `{}` on {} is closed; round {} is open", n,
                                open.gate, s.id, open.number),
                    "vote in the open round (or leave `round` out)");
    }
    if (n > open.number) {
      return refuse(ErrorCode::kGate, "no_open_round",
                    fmt::format("gate `{}` on {} has no round {}; round {} is open", open.gate,
                                s.id, n, open.number));
    }
  }
  return {};
}

Result<void> check_keys(const json& p, std::initializer_list<const char*> allowed,
                        std::string_view what) {
  std::vector<std::string> keys(allowed.begin(), allowed.end());
  for (const auto& [key, value] : p.items()) {
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
      return fail(
          Error(ErrorCode::kInvalidPayload, fmt::format("a gate {} takes no field `{}`", what, key))
              .with_hint(did_you_mean(key, keys)));
    }
  }
  return {};
}

Result<std::string> optional_string(const json& p, const char* key) {
  auto it = p.find(key);
  if (it == p.end() || it->is_null()) return std::string();
  if (!it->is_string()) {
    return fail(ErrorCode::kInvalidPayload, fmt::format("`{}` must be a string", key));
  }
  return it->get<std::string>();
}

// The criteria names of a gate, for "did you mean".
std::vector<std::string> criteria_ids(const GateDef& g) {
  std::vector<std::string> ids;
  for (const MustMeet& m : g.must_meet) ids.push_back(m.id);
  for (const ShouldMeet& c : g.should_meet) ids.push_back(c.id);
  return ids;
}

Result<void> read_answers(const json& p, const GateDef& g, Vote& v) {
  auto it = p.find("answers");
  if (it == p.end() || it->is_null()) return {};
  if (!it->is_object()) {
    return fail(ErrorCode::kInvalidPayload, "`answers` must be an object {criterion: true|false}");
  }
  for (const auto& [id, value] : it->items()) {
    if (!g.must(id)) {
      if (g.should(id)) {
        return refuse(ErrorCode::kInvalidPayload, "unknown_criterion",
                      fmt::format("`{}` of gate `{}` is scored: give it in `scores`", id, g.id));
      }
      return refuse(ErrorCode::kInvalidPayload, "unknown_criterion",
                    fmt::format("gate `{}` has no criterion `{}`", g.id, id),
                    did_you_mean(id, criteria_ids(g)));
    }
    if (!value.is_boolean()) {
      return fail(ErrorCode::kInvalidPayload,
                  fmt::format("the answer to must-meet `{}` must be true or false", id));
    }
    v.answers[id] = value.get<bool>();
  }
  return {};
}

Result<void> read_scores(const json& p, const GateDef& g, Vote& v) {
  auto it = p.find("scores");
  if (it == p.end() || it->is_null()) return {};
  if (!it->is_object()) {
    return fail(ErrorCode::kInvalidPayload, "`scores` must be an object {criterion: score}");
  }
  for (const auto& [id, value] : it->items()) {
    const ShouldMeet* c = g.should(id);
    if (!c) {
      if (g.must(id)) {
        return refuse(
            ErrorCode::kInvalidPayload, "unknown_criterion",
            fmt::format("`{}` of gate `{}` is a yes/no must-meet: give it in `answers`", id, g.id));
      }
      return refuse(ErrorCode::kInvalidPayload, "unknown_criterion",
                    fmt::format("gate `{}` has no criterion `{}`", g.id, id),
                    did_you_mean(id, criteria_ids(g)));
    }
    if (!value.is_number_integer()) {
      return refuse(ErrorCode::kInvalidPayload, "score_out_of_range",
                    fmt::format("the score of `{}` must be a whole number from {} to {}", id,
                                c->min, c->max));
    }
    std::int64_t score = value.get<std::int64_t>();
    if (score < c->min || score > c->max) {
      return refuse(ErrorCode::kInvalidPayload, "score_out_of_range",
                    fmt::format("the score {} of `{}` is outside its range {}..{}", score, id,
                                c->min, c->max));
    }
    v.scores[id] = score;
  }
  return {};
}

// A go vote must stand on its own: every criterion answered, no knock-out, a passing score.
Result<void> check_go_vote(const GateDef& g, const Vote& v) {
  std::vector<std::string> missing;
  for (const MustMeet& m : g.must_meet) {
    if (!v.answers.contains(m.id)) missing.push_back(m.id);
  }
  for (const ShouldMeet& c : g.should_meet) {
    if (!v.scores.contains(c.id)) missing.push_back(c.id);
  }
  if (!missing.empty()) {
    return fail(
        gate_error(ErrorCode::kInvalidPayload, "missing_answers",
                   fmt::format("a go vote on gate `{}` answers every criterion; missing: {}", g.id,
                               fmt::join(missing, ", ")))
            .with_data("missing", missing));
  }
  std::vector<std::string> no;
  for (const auto& [id, met] : v.answers) {
    if (!met) no.push_back(id);
  }
  if (!no.empty()) {
    return refuse(ErrorCode::kGate, "go_blocked",
                  fmt::format("a go vote cannot answer no to a must-meet criterion ({})",
                              fmt::join(no, ", ")),
                  "vote kill, recycle or hold instead");
  }
  if (auto score = weighted_score(g, {&v.scores}); score && *score < g.pass_score) {
    return refuse(ErrorCode::kGate, "go_blocked",
                  fmt::format("your scores give {} of 100, below the pass score {} of gate `{}`",
                              format_hundredths(*score), format_hundredths(g.pass_score), g.id),
                  "vote recycle, hold or kill, or review the scores");
  }
  return {};
}

// The voter's seat: the role named in the payload, or the first seat (in declaration order) the
// voter holds that is free or already theirs.
Result<const Seat*> choose_seat(const GateDef& g, const Round& round, const Actor& actor,
                                const std::string& voter, const std::string& wanted) {
  if (!wanted.empty()) {
    const Seat* seat = g.seat(wanted);
    if (!seat) {
      std::vector<std::string> roles;
      for (const Seat& s : g.seats) roles.push_back(s.role);
      return refuse(ErrorCode::kInvalidPayload, "not_gatekeeper",
                    fmt::format("`{}` is not a gatekeeper role of gate `{}`", wanted, g.id),
                    did_you_mean(wanted, roles));
    }
    if (!actor.has_any_role({wanted})) {
      return refuse(ErrorCode::kForbidden, "not_gatekeeper",
                    fmt::format("{} does not hold the role `{}`", voter, wanted));
    }
    const Vote* mine = round.vote_of(voter);
    if (round.votes_in(wanted) >= seat->count && !(mine && mine->role == wanted)) {
      return refuse(ErrorCode::kGate, "seat_taken",
                    fmt::format("the `{}` seat(s) of round {} of gate `{}` are already filled",
                                wanted, round.number, g.id));
    }
    return seat;
  }
  std::vector<std::string> held;
  for (const Seat& seat : g.seats) {
    if (!actor.has_any_role({seat.role})) continue;
    held.push_back(seat.role);
    const Vote* mine = round.vote_of(voter);
    if (round.votes_in(seat.role) < seat.count || (mine && mine->role == seat.role)) return &seat;
  }
  if (held.empty()) {
    std::vector<std::string> roles;
    for (const Seat& s : g.seats) roles.push_back(s.role);
    return fail(gate_error(ErrorCode::kForbidden, "not_gatekeeper",
                           fmt::format("{} is not a gatekeeper of gate `{}`: it needs one of the "
                                       "roles {}",
                                       voter, g.id, fmt::join(roles, ", ")))
                    .with_data("gatekeepers", roles));
  }
  return refuse(ErrorCode::kGate, "seat_taken",
                fmt::format("the seat(s) {} of round {} of gate `{}` are already filled",
                            fmt::join(held, ", "), round.number, g.id));
}

bool same_vote(const Vote& a, const Vote& b) {
  return a.role == b.role && a.decision == b.decision && a.answers == b.answers &&
         a.scores == b.scores && a.reason == b.reason && a.revisit_on == b.revisit_on &&
         a.payload == b.payload;
}

json votes_by_decision(const Round& round) {
  json counts = {{"go", 0}, {"kill", 0}, {"hold", 0}, {"recycle", 0}};
  for (const Vote& v : round.votes) {
    counts[std::string(decision_name(v.decision))] =
        counts[std::string(decision_name(v.decision))].get<int>() + 1;
  }
  return counts;
}

// The payload for a kill or recycle exit: the deciding votes' `payload`, with every required
// string field the exit declares and nobody gave filled with the decision's reason.
json exit_payload(const TransitionDef& exit, const Round& round, const Outcome& o) {
  json payload = json::object();
  for (const Vote& v : round.votes) {
    if (v.decision == o.decision && !v.payload.empty()) payload = v.payload;
  }
  for (const PayloadField& f : exit.payload) {
    if (f.type == Type::kString && f.required && !payload.contains(f.name) && !o.reason.empty()) {
      payload[f.name] = o.reason;
    }
  }
  return payload;
}

}  // namespace

std::string GateHooks::name() const { return kPluginName; }

TransitionVerdict GateHooks::before_transition(const HookContext& ctx, const InstanceState& s,
                                               const TransitionDef& t,
                                               std::span<const Value> payload) const {
  if (t.gate.empty()) return TransitionVerdict::allow();
  const GateConfig* config = gate_config(ctx.workflow);
  const GateDef* g = config ? config->find(t.gate) : nullptr;
  if (!g) {
    return TransitionVerdict::deny(gate_error(
        ErrorCode::kInternal, "unknown_gate",
        fmt::format("transition `{}` names the gate `{}`, which workflow {} v{} does not declare",
                    t.event, t.gate, ctx.workflow.id, ctx.workflow.version)));
  }
  json normalized = json::object();
  for (std::size_t i = 0; i < t.payload.size() && i < payload.size(); ++i) {
    if (!payload[i].is_null()) normalized[t.payload[i].name] = payload[i].to_json();
  }
  std::int64_t last = 0;
  const json& state = gate_state(s);
  if (auto it = state.find("rounds"); it != state.end() && it->contains(g->id)) {
    last = (*it)[g->id].get<std::int64_t>();
  }
  json body = {{"gate", g->id},
               {"round", last + 1},
               {"transition", t.index},
               {"event", t.event},
               {"from", s.state},
               {"to", t.to},
               {"payload", std::move(normalized)},
               {"submitter", person_of(ctx.command.actor)}};
  return TransitionVerdict::hold({Event{kSubmitted, std::move(body)}});
}

Result<std::vector<Event>> GateHooks::on_command(const HookContext& ctx,
                                                 const InstanceState& s) const {
  const Command& c = ctx.command;
  const Workflow& wf = ctx.workflow;
  const GateConfig* config = gate_config(wf);
  const json& p = c.payload;
  if (c.action != "vote" && c.action != "recall") {
    return refuse(ErrorCode::kInvalidArgument, "unknown_action",
                  fmt::format("the gate plugin takes no command `{}`", c.action),
                  "commands: vote, recall");
  }
  if (!p.is_object()) {
    return fail(ErrorCode::kInvalidPayload, "a gate command's payload must be a JSON object");
  }
  if (!has_open_round(s) || s.lifecycle != Lifecycle::kAwaitingGate) {
    // An unknown gate is the more useful answer when the caller named one.
    if (auto it = p.find("gate"); it != p.end() && it->is_string()) {
      std::string gate = it->get<std::string>();
      if (!config || !config->find(gate)) {
        return refuse(ErrorCode::kGate, "unknown_gate",
                      fmt::format("workflow {} has no gate `{}`", s.workflow_id, gate),
                      did_you_mean(gate, gate_ids(config)));
      }
    }
    return fail(no_open_round(s, c.action));
  }
  auto round = open_round(s);
  if (!round) return fail(round.error());
  const GateDef* g = config ? config->find(round->gate) : nullptr;
  if (!g) {
    return fail(ErrorCode::kInternal,
                fmt::format("the open round names the gate `{}`, which workflow {} v{} does not "
                            "declare",
                            round->gate, wf.id, wf.version));
  }
  const std::string who = person_of(c.actor);

  if (c.action == "recall") {
    if (auto ok = check_keys(p, {"gate", "round", "reason"}, "recall"); !ok)
      return fail(ok.error());
    if (auto ok = check_round_ref(p, *round, config, s); !ok) return fail(ok.error());
    if (who != round->submitter && c.actor.principal != round->submitter) {
      return refuse(ErrorCode::kForbidden, "not_submitter",
                    fmt::format("only {}, who submitted round {} of gate `{}`, may recall it",
                                round->submitter, round->number, g->id));
    }
    auto reason = optional_string(p, "reason");
    if (!reason) return fail(reason.error());
    json body = {{"gate", g->id}, {"round", round->number}, {"by", who}};
    if (!reason->empty()) body["reason"] = *reason;
    return std::vector<Event>{{kRecalled, std::move(body)}};
  }

  // vote
  if (auto ok = check_keys(p,
                           {"gate", "round", "decision", "answers", "scores", "reason",
                            "revisit_on", "role", "payload"},
                           "vote");
      !ok) {
    return fail(ok.error());
  }
  if (auto ok = check_round_ref(p, *round, config, s); !ok) return fail(ok.error());
  if (who == round->submitter || c.actor.principal == round->submitter) {
    return refuse(ErrorCode::kForbidden, "self_approval",
                  fmt::format("{} submitted round {} of gate `{}` and may not decide it", who,
                              round->number, g->id),
                  "segregation of duties: another gatekeeper must review it");
  }
  auto wanted = optional_string(p, "role");
  if (!wanted) return fail(wanted.error());
  auto seat = choose_seat(*g, *round, c.actor, who, *wanted);
  if (!seat) return fail(seat.error());

  Vote v;
  v.voter = who;
  v.role = (*seat)->role;
  v.weight = (*seat)->weight;
  v.at_ms = ctx.now_ms;
  auto decision_text = optional_string(p, "decision");
  if (!decision_text) return fail(decision_text.error());
  auto decision = parse_decision(*decision_text);
  if (!decision) {
    return refuse(
        ErrorCode::kInvalidPayload, "bad_vote",
        decision_text->empty()
            ? std::string("a vote needs a decision: go, kill, hold or recycle")
            : fmt::format("`{}` is not a decision: go, kill, hold or recycle", *decision_text));
  }
  v.decision = *decision;
  if (v.decision == Decision::kKill && g->kill_event.empty()) {
    return refuse(ErrorCode::kGate, "decision_unavailable",
                  fmt::format("gate `{}` declares no kill exit", g->id),
                  "vote recycle or hold, or add kill = \"<event>\" to the gate");
  }
  if (v.decision == Decision::kRecycle && g->recycle_event.empty()) {
    return refuse(ErrorCode::kGate, "decision_unavailable",
                  fmt::format("gate `{}` declares no recycle transition", g->id),
                  "vote kill or hold, or add recycle = \"<event>\" to the gate");
  }
  if (auto ok = read_answers(p, *g, v); !ok) return fail(ok.error());
  if (auto ok = read_scores(p, *g, v); !ok) return fail(ok.error());
  auto reason = optional_string(p, "reason");
  if (!reason) return fail(reason.error());
  v.reason = *reason;
  auto revisit = optional_string(p, "revisit_on");
  if (!revisit) return fail(revisit.error());
  if (!revisit->empty()) {
    if (v.decision != Decision::kHold) {
      return refuse(ErrorCode::kInvalidPayload, "bad_vote", "`revisit_on` goes with a hold vote");
    }
    if (!parse_date_days(*revisit)) {
      return refuse(ErrorCode::kInvalidPayload, "bad_vote",
                    fmt::format("`revisit_on` `{}` is not a date (YYYY-MM-DD)", *revisit));
    }
    v.revisit_on = *revisit;
  }
  if (auto it = p.find("payload"); it != p.end() && !it->is_null()) {
    if (!it->is_object()) {
      return fail(ErrorCode::kInvalidPayload, "`payload` must be a JSON object");
    }
    if (v.decision != Decision::kKill && v.decision != Decision::kRecycle) {
      return refuse(ErrorCode::kInvalidPayload, "bad_vote",
                    "`payload` carries the exit transition's fields of a kill or recycle vote");
    }
    v.payload = *it;
  }
  if (v.decision == Decision::kGo) {
    if (auto ok = check_go_vote(*g, v); !ok) return fail(ok.error());
  } else if (v.reason.empty()) {
    return refuse(ErrorCode::kInvalidPayload, "bad_vote",
                  fmt::format("a {} vote needs a reason", decision_name(v.decision)));
  }

  bool replaces = false;
  if (const Vote* earlier = round->vote_of(who)) {
    Vote same = v;
    same.at_ms = earlier->at_ms;
    if (same_vote(*earlier, same)) return std::vector<Event>{};  // a repeat changes nothing
    if (!g->allow_vote_change) {
      return refuse(ErrorCode::kGate, "already_voted",
                    fmt::format("{} already voted {} in round {} of gate `{}`", who,
                                decision_name(earlier->decision), round->number, g->id),
                    "a vote cannot be changed at this gate");
    }
    replaces = true;
  }

  Round next = *round;
  std::erase_if(next.votes, [&](const Vote& old) { return old.voter == who; });
  next.votes.push_back(v);
  Outcome o = evaluate(*g, next);
  if (o.decided && o.decided_by == "chair" && o.decision == Decision::kGo &&
      (!o.knocked_out.empty() || !o.score_ok)) {
    return refuse(ErrorCode::kGate, "go_blocked",
                  !o.knocked_out.empty()
                      ? fmt::format("the gate cannot pass: must-meet answered no: {}",
                                    fmt::join(o.knocked_out, ", "))
                      : fmt::format("the gate cannot pass: the weighted score {} is below {}",
                                    o.score ? format_hundredths(*o.score) : std::string("?"),
                                    format_hundredths(g->pass_score)),
                  "the chair may vote recycle, hold or kill");
  }

  json vote_body = v.to_json();
  vote_body.erase("at_ms");
  vote_body["gate"] = g->id;
  vote_body["round"] = round->number;
  if (replaces) vote_body["replaces"] = true;
  std::vector<Event> out{{kVoted, std::move(vote_body)}};
  if (!o.decided) return out;

  json decided = {{"gate", g->id},
                  {"round", round->number},
                  {"decision", std::string(decision_name(o.decision))},
                  {"decided_by", o.decided_by},
                  {"votes", votes_by_decision(next)},
                  {"knocked_out", o.knocked_out}};
  if (!o.reason.empty()) decided["reason"] = o.reason;
  if (o.score) decided["score"] = format_hundredths(*o.score);
  if (!o.revisit_on.empty()) decided["revisit_on"] = o.revisit_on;

  if (o.decision == Decision::kHold) {  // the next round opens at once for the same transition
    out.push_back({kDecided, decided});
    json reopened = {{"gate", g->id},
                     {"round", round->number + 1},
                     {"transition", round->transition},
                     {"event", round->event},
                     {"from", round->from},
                     {"to", round->to},
                     {"payload", round->payload},
                     {"submitter", round->submitter},
                     {"after_hold", round->number}};
    if (!o.revisit_on.empty()) reopened["revisit_on"] = o.revisit_on;
    out.push_back({kReopened, std::move(reopened)});
    return out;
  }

  // The transition runs on the instance as it is once the round closed (active again).
  out.push_back({kDecided, decided});
  InstanceState after = s;
  for (const Event& e : out) {
    if (auto ok = apply(after, e, wf, ctx.now_ms); !ok) return fail(ok.error());
  }
  Result<std::vector<Event>> moved;
  std::string taken;
  if (o.decision == Decision::kGo) {
    // The held transition passed its roles, payload and guard when it was submitted.
    if (round->transition >= wf.transitions.size()) {
      return fail(ErrorCode::kInternal, "the held transition is not in the workflow");
    }
    const TransitionDef& held = wf.transitions[round->transition];
    taken = held.event;
    moved = transition_events(wf, after, held, round->payload, ctx.now_ms);
  } else {
    // kill and recycle fire their exit with the core's semantics (priorities, payload, guards);
    // the gate's decision stands in for the roles of the transitions it may take.
    taken = o.decision == Decision::kKill ? g->kill_event : g->recycle_event;
    auto candidates = wf.candidates(after.state, taken);
    if (candidates.empty()) {
      return fail(ErrorCode::kInternal, fmt::format("gate `{}`: no `{}` transition leaves `{}`",
                                                    g->id, taken, after.state));
    }
    Command fire;
    fire.kind = CommandKind::kFire;
    fire.instance_id = s.id;
    fire.event = taken;
    fire.payload = exit_payload(*candidates.front(), next, o);
    fire.actor = c.actor;
    std::set<std::string> roles(c.actor.roles.begin(), c.actor.roles.end());
    for (const TransitionDef* t : candidates) roles.insert(t->roles.begin(), t->roles.end());
    fire.actor.roles.assign(roles.begin(), roles.end());
    moved = fire_events(wf, after, fire, ctx.now_ms);
  }
  if (!moved) {
    Error e = moved.error();
    e.message = fmt::format("the {} of gate `{}` takes `{}`, which refused: {}",
                            decision_name(o.decision), g->id, taken, e.message);
    if (o.decision != Decision::kGo && e.hint.empty()) {
      e.hint = fmt::format("give the fields of `{}` in the vote's `payload`", taken);
    }
    return fail(std::move(e));
  }
  if (!moved->empty())
    out.back().body["transition"] = moved->front().body.value("transition", std::size_t{0});
  for (Event& e : *moved) out.push_back(std::move(e));
  return out;
}

Result<std::vector<Event>> GateHooks::after_events(const HookContext&, const InstanceState&,
                                                   const InstanceState& after,
                                                   std::span<const Event>) const {
  // A cancelled instance ends its open round, so no query or report sees it waiting.
  if (after.lifecycle != Lifecycle::kCancelled || !has_open_round(after)) {
    return std::vector<Event>{};
  }
  auto round = open_round(after);
  if (!round) return fail(round.error());
  return std::vector<Event>{
      {kCancelled,
       {{"gate", round->gate}, {"round", round->number}, {"reason", "instance cancelled"}}}};
}

Result<void> GateHooks::apply(InstanceState& s, const Event& e, const Workflow& wf,
                              std::int64_t at_ms) const {
  (void)wf;
  json& g = s.extra[kPluginName];
  if (!g.is_object()) g = json::object();
  if (!g.contains("rounds")) g["rounds"] = json::object();
  if (!g.contains("closed")) g["closed"] = json::array();
  const json& b = e.body;
  auto step = [&](LifecycleEvent le) -> Result<void> {
    auto next = lifecycle_step(s.lifecycle, le);
    if (!next) {
      return fail(ErrorCode::kStorage, fmt::format("event `{}` is not possible while {}", e.type,
                                                   lifecycle_name(s.lifecycle)));
    }
    s.lifecycle = *next;
    return {};
  };
  auto open_matching = [&]() -> Result<Round> {
    if (!g.contains("open") || !g["open"].is_object()) {
      return malformed_event(e, "no round is open");
    }
    auto r = Round::from_json(g["open"]);
    if (!r) return fail(r.error());
    if (b.value("gate", std::string()) != r->gate ||
        b.value("round", std::int64_t{0}) != r->number) {
      return malformed_event(
          e, fmt::format("it does not name the open round {} of `{}`", r->number, r->gate));
    }
    return r;
  };
  auto close = [&](const Round& r, const std::string& decision) {
    g["closed"].push_back({{"gate", r.gate},
                           {"round", r.number},
                           {"decision", decision},
                           {"opened_ms", r.opened_ms},
                           {"closed_ms", at_ms},
                           {"votes", r.votes.size()}});
    g["open"] = nullptr;
  };

  if (e.type == kSubmitted || e.type == kReopened) {
    if (e.type == kSubmitted) {
      if (auto ok = step(LifecycleEvent::kAwaitGate); !ok) return ok;
    } else if (s.lifecycle != Lifecycle::kAwaitingGate ||
               (g.contains("open") && g["open"].is_object())) {
      return malformed_event(e, "a round reopens only after a hold, while awaiting the gate");
    }
    json round = b;
    round.erase("after_hold");
    round["opened_ms"] = at_ms;
    round["votes"] = json::array();
    auto r = Round::from_json(round);
    if (!r) return malformed_event(e, r.error().message);
    g["rounds"][r->gate] = r->number;
    g["open"] = r->to_json();
    return {};
  }
  if (e.type == kVoted) {
    auto r = open_matching();
    if (!r) return fail(r.error());
    json vote = b;
    vote.erase("gate");
    vote.erase("round");
    vote.erase("replaces");
    vote["at_ms"] = at_ms;
    auto v = Vote::from_json(vote);
    if (!v) return malformed_event(e, v.error().message);
    std::erase_if(r->votes, [&](const Vote& old) { return old.voter == v->voter; });
    r->votes.push_back(std::move(*v));
    g["open"] = r->to_json();
    return {};
  }
  if (e.type == kDecided) {
    auto r = open_matching();
    if (!r) return fail(r.error());
    std::string decision = b.value("decision", std::string());
    auto d = parse_decision(decision);
    if (!d) return malformed_event(e, "unknown decision");
    close(*r, decision);
    if (*d != Decision::kHold) return step(LifecycleEvent::kGateDecided);
    return {};
  }
  if (e.type == kRecalled) {
    auto r = open_matching();
    if (!r) return fail(r.error());
    close(*r, "recalled");
    return step(LifecycleEvent::kGateDecided);
  }
  if (e.type == kCancelled) {
    auto r = open_matching();
    if (!r) return fail(r.error());
    close(*r, "cancelled");
    return {};
  }
  return fail(ErrorCode::kStorage, fmt::format("unknown gate event `{}`", e.type));
}

void GateHooks::annotate_graph(const Workflow& wf, GraphAnnotations& notes) const {
  add_gate_graph_notes(wf, notes);
}

void GateHooks::describe(const Workflow& wf, const InstanceState& s, json& view) const {
  auto it = s.extra.find(kPluginName);
  if (it == s.extra.end() || !it->is_object()) return;
  const json& state = *it;
  json out = {{"rounds", state.value("rounds", json::object())}, {"open", nullptr}};
  if (auto closed = state.find("closed");
      closed != state.end() && closed->is_array() && !closed->empty()) {
    json last = closed->back();
    last["opened_at"] = format_datetime_ms(last.value("opened_ms", std::int64_t{0}));
    last["closed_at"] = format_datetime_ms(last.value("closed_ms", std::int64_t{0}));
    last.erase("opened_ms");
    last.erase("closed_ms");
    out["last"] = std::move(last);
  }
  const GateConfig* config = gate_config(wf);
  auto round = has_open_round(s) ? open_round(s) : Result<Round>(fail(ErrorCode::kNotFound, ""));
  const GateDef* g = round && config ? config->find(round->gate) : nullptr;
  if (round && g) {
    json votes = json::array();
    for (const Vote& v : round->votes) {
      json j = v.to_json();
      j.erase("at_ms");
      j["at"] = format_datetime_ms(v.at_ms);
      votes.push_back(std::move(j));
    }
    json seats = json::array();
    for (const Seat& seat : g->seats) {
      json voters = json::array();
      for (const Vote& v : round->votes) {
        if (v.role == seat.role) voters.push_back(v.voter);
      }
      json j = {{"role", seat.role},
                {"weight", seat.weight},
                {"seats", seat.count},
                {"chair", seat.role == g->chair},
                {"voted_by", std::move(voters)}};
      seats.push_back(std::move(j));
    }
    json must = json::array();
    for (const MustMeet& m : g->must_meet) must.push_back({{"id", m.id}, {"question", m.question}});
    json should = json::array();
    for (const ShouldMeet& c : g->should_meet) {
      should.push_back({{"id", c.id},
                        {"question", c.question},
                        {"min", c.min},
                        {"max", c.max},
                        {"weight", c.weight}});
    }
    json open = {{"gate", g->id},
                 {"name", g->name},
                 {"round", round->number},
                 {"transition",
                  {{"index", round->transition},
                   {"event", round->event},
                   {"from", round->from},
                   {"to", round->to}}},
                 {"payload", round->payload},
                 {"submitter", round->submitter},
                 {"opened_at", format_datetime_ms(round->opened_ms)},
                 {"quorum", {{"rule", std::string(quorum_name(g->quorum))}}},
                 {"seats", std::move(seats)},
                 {"criteria",
                  {{"must_meet", std::move(must)},
                   {"should_meet", std::move(should)},
                   {"pass_score", format_hundredths(g->pass_score)}}},
                 {"decisions", json::array({"go", "hold"})},
                 {"allow_vote_change", g->allow_vote_change},
                 {"votes", std::move(votes)},
                 {"outcome", evaluate(*g, *round).to_json()}};
    if (!g->kill_event.empty()) open["decisions"].push_back("kill");
    if (!g->recycle_event.empty()) open["decisions"].push_back("recycle");
    if (!g->chair.empty()) open["chair"] = g->chair;
    if (!round->revisit_on.empty()) open["revisit_on"] = round->revisit_on;
    open["quorum"]["needed"] = open["outcome"]["needed"];
    out["open"] = std::move(open);
  }
  view["gate"] = std::move(out);
}

}  // namespace flowgate::gate
