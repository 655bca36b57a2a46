#include "plugins/gate/round.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace flowgate::gate {

using nlohmann::json;

std::string_view decision_name(Decision d) {
  switch (d) {
    case Decision::kGo:
      return "go";
    case Decision::kKill:
      return "kill";
    case Decision::kHold:
      return "hold";
    case Decision::kRecycle:
      return "recycle";
  }
  return "hold";
}

std::optional<Decision> parse_decision(std::string_view name) {
  for (Decision d : {Decision::kGo, Decision::kKill, Decision::kHold, Decision::kRecycle}) {
    if (decision_name(d) == name) return d;
  }
  return std::nullopt;
}

namespace {

// Stored state is written by this plugin only; anything else is a tampered or foreign log.
std::unexpected<Error> malformed(std::string_view what) {
  return fail(ErrorCode::kStorage, fmt::format("malformed gate state: {}", what));
}

template <typename T>
bool read(const json& j, const char* key, T& out) {
  auto it = j.find(key);
  if (it == j.end()) return false;
  try {
    out = it->get<T>();
    return true;
  } catch (const json::exception&) {
    return false;
  }
}

// How mild a non-go decision is: ties between decisions go to the milder one.
int severity(Decision d) {
  switch (d) {
    case Decision::kHold:
      return 0;
    case Decision::kRecycle:
      return 1;
    case Decision::kKill:
      return 2;
    case Decision::kGo:
      return -1;
  }
  return 0;
}

}  // namespace

json Vote::to_json() const {
  json j = {{"voter", voter},     {"role", role},
            {"weight", weight},   {"decision", std::string(decision_name(decision))},
            {"answers", answers}, {"scores", scores},
            {"at_ms", at_ms}};
  if (!reason.empty()) j["reason"] = reason;
  if (!revisit_on.empty()) j["revisit_on"] = revisit_on;
  if (!payload.empty()) j["payload"] = payload;
  return j;
}

Result<Vote> Vote::from_json(const json& j) {
  if (!j.is_object()) return malformed("a vote is not an object");
  Vote v;
  std::string decision;
  if (!read(j, "voter", v.voter) || !read(j, "role", v.role) || !read(j, "weight", v.weight) ||
      !read(j, "decision", decision) || !read(j, "answers", v.answers) ||
      !read(j, "scores", v.scores) || !read(j, "at_ms", v.at_ms)) {
    return malformed("a vote lacks voter, role, weight, decision, answers, scores or at_ms");
  }
  auto d = parse_decision(decision);
  if (!d) return malformed(fmt::format("unknown decision `{}`", decision));
  v.decision = *d;
  read(j, "reason", v.reason);
  read(j, "revisit_on", v.revisit_on);
  if (auto it = j.find("payload"); it != j.end() && it->is_object()) v.payload = *it;
  return v;
}

const Vote* Round::vote_of(std::string_view voter) const {
  for (const Vote& v : votes) {
    if (v.voter == voter) return &v;
  }
  return nullptr;
}

std::int64_t Round::votes_in(std::string_view role) const {
  return std::count_if(votes.begin(), votes.end(), [&](const Vote& v) { return v.role == role; });
}

json Round::to_json() const {
  json vs = json::array();
  for (const Vote& v : votes) vs.push_back(v.to_json());
  json j = {{"gate", gate},          {"round", number},        {"transition", transition},
            {"event", event},        {"from", from},           {"to", to},
            {"payload", payload},    {"submitter", submitter}, {"opened_ms", opened_ms},
            {"votes", std::move(vs)}};
  if (!revisit_on.empty()) j["revisit_on"] = revisit_on;
  return j;
}

Result<Round> Round::from_json(const json& j) {
  if (!j.is_object()) return malformed("the open round is not an object");
  Round r;
  if (!read(j, "gate", r.gate) || !read(j, "round", r.number) ||
      !read(j, "transition", r.transition) || !read(j, "event", r.event) ||
      !read(j, "from", r.from) || !read(j, "to", r.to) || !read(j, "submitter", r.submitter) ||
      !read(j, "opened_ms", r.opened_ms)) {
    return malformed(
        "the open round lacks gate, round, transition, event, from, to, submitter "
        "or opened_ms");
  }
  if (auto it = j.find("payload"); it != j.end() && it->is_object()) r.payload = *it;
  read(j, "revisit_on", r.revisit_on);
  if (auto it = j.find("votes"); it != j.end() && it->is_array()) {
    for (const json& v : *it) {
      auto vote = Vote::from_json(v);
      if (!vote) return fail(vote.error());
      r.votes.push_back(std::move(*vote));
    }
  }
  return r;
}

json Outcome::to_json() const {
  json j = {{"decided", decided},         {"go_votes", go_votes},     {"go_weight", go_weight},
            {"needed", needed},           {"open_seats", open_seats}, {"score_ok", score_ok},
            {"knocked_out", knocked_out}, {"unanswered", unanswered}};
  if (decided) {
    j["decision"] = std::string(decision_name(decision));
    j["decided_by"] = decided_by;
  }
  j["score"] = score ? json(format_hundredths(*score)) : json(nullptr);
  if (!reason.empty()) j["reason"] = reason;
  if (!revisit_on.empty()) j["revisit_on"] = revisit_on;
  return j;
}

std::optional<std::int64_t> weighted_score(
    const GateDef& gate, const std::vector<const std::map<std::string, std::int64_t>*>& scores) {
  if (gate.should_meet.empty()) return std::nullopt;
  long double total = 0;
  std::int64_t weights = 0;
  for (const ShouldMeet& c : gate.should_meet) {
    std::int64_t sum = 0;
    std::int64_t count = 0;
    for (const auto* m : scores) {
      if (auto it = m->find(c.id); it != m->end()) {
        sum += it->second - c.min;
        ++count;
      }
    }
    if (count == 0) return std::nullopt;
    total += static_cast<long double>(c.weight) * static_cast<long double>(sum) /
             (static_cast<long double>(count) * static_cast<long double>(c.max - c.min));
    weights += c.weight;
  }
  return std::llround(total * 10000.0L / static_cast<long double>(weights));
}

Outcome evaluate(const GateDef& gate, const Round& round) {
  Outcome o;
  std::int64_t open_weight = 0;
  for (const Seat& seat : gate.seats) {
    for (std::int64_t i = round.votes_in(seat.role); i < seat.count; ++i) {
      o.open_seats.push_back(seat.role);
      open_weight += seat.weight;
    }
  }
  std::vector<const std::map<std::string, std::int64_t>*> scores;
  const Vote* chair = nullptr;
  for (const Vote& v : round.votes) {
    if (v.decision == Decision::kGo) {
      ++o.go_votes;
      o.go_weight += v.weight;
    }
    for (const MustMeet& m : gate.must_meet) {
      if (auto it = v.answers.find(m.id); it != v.answers.end() && !it->second) {
        o.knocked_out.push_back(fmt::format("{} ({})", m.id, v.voter));
      }
    }
    scores.push_back(&v.scores);
    if (!gate.chair.empty() && v.role == gate.chair) chair = &v;
  }
  for (const MustMeet& m : gate.must_meet) {
    bool answered = std::any_of(round.votes.begin(), round.votes.end(),
                                [&](const Vote& v) { return v.answers.contains(m.id); });
    if (!answered) o.unanswered.push_back(m.id);
  }
  for (const ShouldMeet& c : gate.should_meet) {
    bool scored = std::any_of(round.votes.begin(), round.votes.end(),
                              [&](const Vote& v) { return v.scores.contains(c.id); });
    if (!scored) o.unanswered.push_back(c.id);
  }
  o.score = weighted_score(gate, scores);
  o.score_ok = gate.should_meet.empty() || (o.score && *o.score >= gate.pass_score);

  const std::int64_t seats = gate.seat_count();
  const std::int64_t open = static_cast<std::int64_t>(o.open_seats.size());
  bool quorum_met = false;
  bool reachable = false;
  switch (gate.quorum) {
    case QuorumRule::kAny:
      o.needed = 1;
      quorum_met = o.go_votes >= 1;
      reachable = quorum_met || open > 0;
      break;
    case QuorumRule::kCount:
      o.needed = gate.quorum_count;
      quorum_met = o.go_votes >= gate.quorum_count;
      reachable = o.go_votes + open >= gate.quorum_count;
      break;
    case QuorumRule::kAll:
      o.needed = seats;
      quorum_met = o.go_votes == seats;
      reachable = o.go_votes + open == seats;
      break;
    case QuorumRule::kWeighted:
      o.needed = gate.pass_weight;
      quorum_met = o.go_weight >= gate.pass_weight;
      reachable = o.go_weight + open_weight >= gate.pass_weight;
      break;
  }

  auto reasons_for = [&](Decision d) {
    std::vector<std::string> parts;
    for (const Vote& v : round.votes) {
      if (v.decision == d && !v.reason.empty()) {
        parts.push_back(fmt::format("{}: {}", v.voter, v.reason));
      }
      if (v.decision == d && d == Decision::kHold && v.revisit_on > o.revisit_on) {
        o.revisit_on = v.revisit_on;
      }
    }
    return fmt::format("{}", fmt::join(parts, "; "));
  };

  if (chair) {
    o.decided = true;
    o.decision = chair->decision;
    o.decided_by = "chair";
    o.reason = chair->reason;
    if (chair->decision == Decision::kHold) o.revisit_on = chair->revisit_on;
    return o;
  }
  if (quorum_met && o.knocked_out.empty() && o.score_ok) {
    o.decided = true;
    o.decision = Decision::kGo;
    o.decided_by = "quorum";
    o.reason = reasons_for(Decision::kGo);
    return o;
  }
  if (!o.knocked_out.empty() || !reachable || open == 0) {
    std::map<Decision, std::int64_t> weight;
    for (const Vote& v : round.votes) {
      if (v.decision != Decision::kGo) weight[v.decision] += v.weight;
    }
    Decision best = Decision::kHold;
    std::int64_t best_weight = -1;
    for (Decision d : {Decision::kHold, Decision::kRecycle, Decision::kKill}) {
      auto it = weight.find(d);
      std::int64_t w = it == weight.end() ? 0 : it->second;
      if (w > best_weight || (w == best_weight && severity(d) < severity(best))) {
        best = d;
        best_weight = w;
      }
    }
    o.decided = true;
    o.decision = best;
    o.decided_by = "quorum";
    o.reason = reasons_for(best);
    if (o.reason.empty()) {
      o.reason = o.score
                     ? fmt::format("the weighted score {} is below the pass score {}",
                                   format_hundredths(*o.score), format_hundredths(gate.pass_score))
                     : "the votes cannot pass the gate";
    }
  }
  return o;
}

}  // namespace flowgate::gate
