// One review round of a gate: the held transition, who submitted it, the votes cast so far, and
// the outcome the plugin computes from those votes (never taken from a caller). The round lives in
// InstanceState::extra["gate"]["open"] as JSON; these types are its parsed form.
//
// How a round closes (docs/gates.md §Outcome):
//   - the chair votes: the chair's decision, at once;
//   - the go votes meet the quorum, no must-meet answer is "no" and the weighted should-meet score
//     reaches pass_score: go;
//   - go can no longer happen (a must-meet "no", the quorum out of reach, or every seat voted):
//     the non-go decision with the most weight (ties: the milder one, hold < recycle < kill).
// Thread-safety: plain values and pure functions.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "plugins/gate/gate_config.h"
#include "util/error.h"

namespace flowgate::gate {

enum class Decision { kGo, kKill, kHold, kRecycle };
std::string_view decision_name(Decision d);  // "go", "kill", "hold", "recycle"
std::optional<Decision> parse_decision(std::string_view name);

struct Vote {
  std::string voter;  // the person (Actor::on_behalf_of, else the principal)
  std::string role;   // the seat it fills
  std::int64_t weight = 1;
  Decision decision = Decision::kGo;
  std::map<std::string, bool> answers;         // must-meet criterion → met
  std::map<std::string, std::int64_t> scores;  // should-meet criterion → score
  std::string reason;
  std::string revisit_on;                             // hold: "YYYY-MM-DD" or ""
  nlohmann::json payload = nlohmann::json::object();  // kill/recycle: the exit transition's payload
  std::int64_t at_ms = 0;

  nlohmann::json to_json() const;
  static Result<Vote> from_json(const nlohmann::json& j);
};

struct Round {
  std::string gate;
  std::int64_t number = 0;     // 1-based, per gate and instance
  std::size_t transition = 0;  // TransitionDef::index of the held transition
  std::string event;
  std::string from;
  std::string to;
  nlohmann::json payload = nlohmann::json::object();  // the held transition's normalized payload
  std::string submitter;
  std::int64_t opened_ms = 0;
  std::string revisit_on;  // a round reopened after a hold: when to revisit it ("" = no date)
  std::vector<Vote> votes;

  const Vote* vote_of(std::string_view voter) const;
  std::int64_t votes_in(std::string_view role) const;  // votes cast in the role's seats

  nlohmann::json to_json() const;
  static Result<Round> from_json(const nlohmann::json& j);
};

// The state of a round after its votes.
struct Outcome {
  bool decided = false;
  Decision decision = Decision::kHold;  // meaningful when decided
  std::string decided_by;               // "chair" or "quorum" when decided
  std::int64_t go_votes = 0;
  std::int64_t go_weight = 0;
  std::int64_t needed = 0;  // go votes (any/n/all) or go weight (weighted) the quorum needs
  std::vector<std::string> open_seats;  // the role of every seat still open (repeated per seat)
  std::optional<std::int64_t> score;  // hundredths of a percent; set once every criterion is scored
  bool score_ok = true;               // no scored criteria, or score >= pass_score
  std::vector<std::string> knocked_out;  // "criterion (voter)" for each must-meet "no"
  std::vector<std::string> unanswered;   // criteria no vote has answered or scored yet
  std::string reason;                    // why it closed (chair's or the deciding votes' reasons)
  std::string revisit_on;                // hold: the latest revisit date given

  nlohmann::json to_json() const;
};

Outcome evaluate(const GateDef& gate, const Round& round);

// The weighted should-meet score in hundredths of a percent over the criteria scored in `scores`
// (mean per criterion), or nullopt while any criterion has no score.
std::optional<std::int64_t> weighted_score(
    const GateDef& gate, const std::vector<const std::map<std::string, std::int64_t>*>& scores);

}  // namespace flowgate::gate
