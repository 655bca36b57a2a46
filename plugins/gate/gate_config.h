// The compiled [gates.<id>] sections of one process file: who reviews (gatekeeper seats by role),
// how their votes close a round (quorum, chair), what they judge (must-meet knock-outs and scored
// should-meet criteria), and where a kill or a recycle goes (declared transitions). GateSections is
// the SectionHandler that parses and validates them; docs/gates.md documents the format and every
// rule id.
// Thread-safety: immutable after loading; shared read-only through Workflow::extensions["gate"].
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "definition/section_registry.h"
#include "definition/workflow.h"

namespace flowgate::gate {

// The plugin's name: event types "gate.*", InstanceState::extra["gate"], commands for "gate".
inline constexpr const char* kPluginName = "gate";

// Rule ids of the gate sections (docs/gates.md lists each with an example).
namespace rule {
inline constexpr const char* kGateUndeclared = "GATE-UNDECLARED";
inline constexpr const char* kGateUnused = "GATE-UNUSED";
inline constexpr const char* kGateKey = "GATE-KEY-UNKNOWN";
inline constexpr const char* kGateValue = "GATE-VALUE";
inline constexpr const char* kGateRole = "GATE-ROLE";
inline constexpr const char* kGateQuorum = "GATE-QUORUM";
inline constexpr const char* kGateExit = "GATE-EXIT";
inline constexpr const char* kGateCriterion = "GATE-CRITERION";
}  // namespace rule

// How the votes of a round reach "go".
enum class QuorumRule {
  kAny,       // one go vote
  kCount,     // n go votes (n of the m seats)
  kAll,       // every seat votes go (unanimous)
  kWeighted,  // the go votes' weights reach pass_weight
};
std::string_view quorum_name(QuorumRule q);  // "any", "n_of_m", "all", "weighted"

// The seats of one gatekeeper role: `count` people holding the role vote in a round, one vote
// each (a committee role may have several seats).
struct Seat {
  std::string role;
  std::int64_t weight = 1;  // of each of its votes
  std::int64_t count = 1;
};

// A yes/no knock-out: any "no" means the round cannot pass.
struct MustMeet {
  std::string id;
  std::string question;
};

// A scored criterion: an integer score in [min, max], weighted into the round's score.
struct ShouldMeet {
  std::string id;
  std::string question;
  std::int64_t min = 0;
  std::int64_t max = 10;
  std::int64_t weight = 1;
};

struct GateDef {
  std::string id;
  std::string name;  // display name; defaults to the id
  std::string description;
  std::vector<Seat> seats;  // in declaration order
  QuorumRule quorum = QuorumRule::kAll;
  std::int64_t quorum_count = 0;  // kCount: go votes needed
  std::int64_t pass_weight = 0;   // kWeighted: go weight needed
  std::string chair;              // a seat's role whose vote decides the round at once; "" = none
  std::string kill_event;         // event of the exit transition a kill takes; "" = no kill
  std::string recycle_event;      // event of the transition back a recycle takes; "" = no recycle
  bool allow_vote_change = false;
  std::vector<MustMeet> must_meet;
  std::vector<ShouldMeet> should_meet;
  std::int64_t pass_score = 0;  // hundredths of a percent of the weighted should-meet score
  std::vector<std::size_t> transitions;  // TransitionDef::index of every transition it gates

  const Seat* seat(std::string_view role) const;
  const MustMeet* must(std::string_view id) const;
  const ShouldMeet* should(std::string_view id) const;
  std::int64_t total_weight() const;  // of every seat
  std::int64_t seat_count() const;
};

struct GateConfig {
  std::vector<GateDef> gates;  // in file order

  const GateDef* find(std::string_view id) const;
};

// The gate configuration of `wf`, or null when it declares no gates.
const GateConfig* gate_config(const Workflow& wf);

// Claims the top-level key "gates".
class GateSections : public SectionHandler {
 public:
  std::string name() const override { return kPluginName; }
  std::vector<std::string> sections() const override { return {"gates"}; }
  std::shared_ptr<const void> compile(const toml::table& root, const Workflow& wf,
                                      const std::string& file, Diagnostics& diags) const override;
};

// "12.50": hundredths printed with two decimals.
std::string format_hundredths(std::int64_t hundredths);

}  // namespace flowgate::gate
