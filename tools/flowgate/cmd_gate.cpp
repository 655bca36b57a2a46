// `flowgate gate vote|recall|pending|show`: stage-gate reviews on the embedded engine
// (docs/gates.md). vote and recall are plugin commands ("gate" plugin) and need --workflows like
// the other mutating verbs; pending and show read only.
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "plugins/gate/queries.h"
#include "tools/flowgate/cli_util.h"
#include "tools/flowgate/command.h"

namespace flowgate::cli {
namespace {

using nlohmann::json;

struct GateArgs {
  std::string db;
  std::string workflows;
  std::string as;
  std::string request_id;
  std::string format = "table";
  std::int64_t expect_version = -1;
  std::string instance;
  std::string gate;
  std::int64_t round = 0;
  std::string reason;
  // vote
  std::string decision;
  std::string answers;
  std::string scores;
  std::string role;
  std::string revisit_on;
  std::string payload;
  // pending
  std::string workflow;
};

std::string text(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "-";
  return v.dump();
}

void add_common(CLI::App& sub, GateArgs& a, bool mutating) {
  sub.add_option("--db", a.db, "SQLite database file")->required();
  auto* workflows =
      sub.add_option("--workflows", a.workflows, "directory of process files (*.toml)");
  if (mutating) {
    workflows->required();
    sub.add_option("--request-id", a.request_id,
                   "idempotency key: a retry returns the first answer");
    sub.add_option("--expect-version", a.expect_version,
                   "refuse unless the instance is at this version");
  }
  sub.add_option("--as", a.as, "actor: ROLE[,ROLE...][:USER] (default: you, as owner)");
  sub.add_option("--format", a.format, "output format")
      ->check(CLI::IsMember(output_format_names()));
}

void add_round_ref(CLI::App& sub, GateArgs& a) {
  sub.add_option("instance", a.instance, "instance id")->required();
  sub.add_option("--gate", a.gate, "the gate (checked against the open round)");
  sub.add_option("--round", a.round, "the round (checked against the open round)");
  sub.add_option("--reason", a.reason, "why (recorded in the history)");
}

// The gate part of an instance view as text.
void print_gate(const json& shown) {
  std::cout << fmt::format("instance   {} ({}, {})\n", text(shown["instance_id"]),
                           text(shown["state"]), text(shown["lifecycle"]));
  const json& open = shown["open"];
  if (open.is_object()) {
    const json& t = open["transition"];
    std::cout << fmt::format("gate       {} \"{}\", round {}\n", text(open["gate"]),
                             text(open["name"]), text(open["round"]));
    std::cout << fmt::format("held       {}: {} -> {}  payload {}\n", text(t["event"]),
                             text(t["from"]), text(t["to"]), open["payload"].dump());
    std::cout << fmt::format("submitted  by {} at {}\n", text(open["submitter"]),
                             text(open["opened_at"]));
    if (open.contains("revisit_on")) {
      std::cout << fmt::format("revisit    {}\n", text(open["revisit_on"]));
    }
    std::cout << fmt::format("quorum     {} (needs {}){}\n", text(open["quorum"]["rule"]),
                             text(open["quorum"]["needed"]),
                             open.contains("chair") ? ", chair " + text(open["chair"]) : "");
    for (const json& seat : open["seats"]) {
      std::vector<std::string> voters = seat["voted_by"];
      std::cout << fmt::format(
          "  seat     {} x{} (weight {}): {}\n", text(seat["role"]), text(seat["seats"]),
          text(seat["weight"]),
          voters.empty() ? std::string("-") : fmt::format("{}", fmt::join(voters, ", ")));
    }
    for (const json& c : open["criteria"]["must_meet"]) {
      std::cout << fmt::format("  must     {}: {}\n", text(c["id"]), text(c["question"]));
    }
    for (const json& c : open["criteria"]["should_meet"]) {
      std::cout << fmt::format("  should   {} ({}..{}, weight {}): {}\n", text(c["id"]),
                               text(c["min"]), text(c["max"]), text(c["weight"]),
                               text(c["question"]));
    }
    for (const json& v : open["votes"]) {
      std::cout << fmt::format("  vote     {} as {}: {} {}{}{}\n", text(v["voter"]),
                               text(v["role"]), text(v["decision"]),
                               v.contains("reason") ? "\"" + text(v["reason"]) + "\" " : "",
                               v["answers"].empty() ? "" : "answers " + v["answers"].dump() + " ",
                               v["scores"].empty() ? "" : "scores " + v["scores"].dump());
    }
    const json& o = open["outcome"];
    std::cout << fmt::format(
        "outcome    {} go vote(s), weight {}, needs {}; score {} (pass {}); open seats: {}\n",
        text(o["go_votes"]), text(o["go_weight"]), text(o["needed"]), text(o["score"]),
        text(open["criteria"]["pass_score"]),
        o["open_seats"].empty() ? std::string("none") : o["open_seats"].dump());
    if (!o["knocked_out"].empty()) {
      std::cout << fmt::format("knocked    {}\n", o["knocked_out"].dump());
    }
    if (!o["unanswered"].empty()) {
      std::cout << fmt::format("unanswered {}\n", o["unanswered"].dump());
    }
  } else {
    std::cout << "gate       no open round\n";
  }
  if (shown.contains("last")) {
    const json& l = shown["last"];
    std::cout << fmt::format("last       {} round {}: {} at {} ({} vote(s))\n", text(l["gate"]),
                             text(l["round"]), text(l["decision"]), text(l["closed_at"]),
                             text(l["votes"]));
  }
}

void print_shown(const json& shown, OutputFormat format) {
  if (format == OutputFormat::kTable) {
    print_gate(shown);
  } else {
    std::cout << (format == OutputFormat::kJson ? shown.dump(2) : shown.dump()) << "\n";
  }
}

// Runs a gate plugin command and prints the instance's gate view after it.
int run_plugin(const GateArgs& a, const std::string& action, json payload) {
  auto engine = open_engine(a.db, a.workflows);
  if (!engine) return report_error(engine.error());
  auto actor = parse_actor(a.as, (*engine)->catalog());
  if (!actor) return report_error(actor.error());
  if (!a.gate.empty()) payload["gate"] = a.gate;
  if (a.round > 0) payload["round"] = a.round;
  if (!a.reason.empty()) payload["reason"] = a.reason;
  Command c;
  c.kind = CommandKind::kPlugin;
  c.plugin = "gate";
  c.action = action;
  c.instance_id = a.instance;
  c.payload = std::move(payload);
  c.actor = std::move(*actor);
  c.request_id = a.request_id;
  if (a.expect_version >= 0) c.expect_version = a.expect_version;
  auto outcome = (*engine)->execute(std::move(c));
  (*engine)->stop();
  if (!outcome) return report_error(outcome.error());
  OutputFormat format = parse_output_format(a.format);
  if (format == OutputFormat::kTable) {
    for (const auto& e : outcome->events) {
      std::cout << fmt::format("recorded   {} {}\n", e.type, e.body.dump());
    }
    print_gate(gate::gate_show(outcome->instance));
  } else {
    print_instance(outcome->instance, format);
  }
  return kExitOk;
}

CommandRegistrar gate_verb(
    "gate", "stage-gate reviews: vote, recall, pending, show",
    [](CLI::App& sub) -> std::function<int()> {
      sub.require_subcommand(1);
      auto a = std::make_shared<GateArgs>();

      CLI::App* vote = sub.add_subcommand("vote", "vote in the open review round of an instance");
      add_common(*vote, *a, /*mutating=*/true);
      add_round_ref(*vote, *a);
      vote->add_option("--decision", a->decision, "go, kill, hold or recycle")
          ->required()
          ->check(CLI::IsMember({"go", "kill", "hold", "recycle"}));
      vote->add_option("--answers", a->answers,
                       R"(must-meet answers as JSON, e.g. '{"budget_confirmed": true}')");
      vote->add_option("--scores", a->scores,
                       R"(should-meet scores as JSON, e.g. '{"margin": 4}')");
      vote->add_option("--role", a->role, "the gatekeeper seat to vote in (default: your first)");
      vote->add_option("--revisit-on", a->revisit_on, "hold: when to look again (YYYY-MM-DD)");
      vote->add_option("--payload", a->payload,
                       "kill/recycle: fields of the exit transition's payload as JSON");

      CLI::App* recall = sub.add_subcommand("recall", "withdraw the open round you submitted");
      add_common(*recall, *a, /*mutating=*/true);
      add_round_ref(*recall, *a);

      CLI::App* pending = sub.add_subcommand("pending", "open rounds waiting for your vote");
      add_common(*pending, *a, /*mutating=*/false);
      pending->add_option("--workflow", a->workflow, "only this workflow");

      CLI::App* show = sub.add_subcommand("show", "the open round of an instance and its last one");
      add_common(*show, *a, /*mutating=*/false);
      show->add_option("instance", a->instance, "instance id")->required();

      return [=]() -> int {
        if (vote->parsed()) {
          json payload = {{"decision", a->decision}};
          for (auto [option, key, value] : {std::tuple{"--answers", "answers", &a->answers},
                                            {"--scores", "scores", &a->scores},
                                            {"--payload", "payload", &a->payload}}) {
            if (value->empty()) continue;
            auto j = parse_json_object(*value, option);
            if (!j) return report_error(j.error());
            payload[key] = std::move(*j);
          }
          if (!a->role.empty()) payload["role"] = a->role;
          if (!a->revisit_on.empty()) payload["revisit_on"] = a->revisit_on;
          return run_plugin(*a, "vote", std::move(payload));
        }
        if (recall->parsed()) return run_plugin(*a, "recall", json::object());
        auto engine = open_engine(a->db, a->workflows, /*read_only=*/true);
        if (!engine) return report_error(engine.error());
        OutputFormat format = parse_output_format(a->format);
        if (show->parsed()) {
          auto shown = gate::gate_show(**engine, a->instance);
          if (!shown) return report_error(shown.error());
          print_shown(*shown, format);
          return kExitOk;
        }
        auto actor = parse_actor(a->as, (*engine)->catalog());
        if (!actor) return report_error(actor.error());
        auto waiting = gate::pending_reviews(**engine, *actor, a->workflow);
        if (!waiting) return report_error(waiting.error());
        if (format == OutputFormat::kJson) {
          std::cout << waiting->dump(2) << "\n";
        } else if (format == OutputFormat::kJsonl) {
          for (const json& item : *waiting) std::cout << item.dump() << "\n";
        } else if (waiting->empty()) {
          std::cout << fmt::format("nothing waits for {}\n", actor->principal);
        } else {
          for (const json& item : *waiting) {
            std::cout << fmt::format(
                "{}  {} round {}  {} ({})  by {} at {}  seats {}  votes {}\n",
                text(item["instance_id"]), text(item["gate"]), text(item["round"]),
                text(item["transition"]["event"]), text(item["state"]), text(item["submitter"]),
                text(item["opened_at"]), item["your_seats"].dump(), text(item["votes"]));
          }
        }
        return kExitOk;
      };
    });

}  // namespace
}  // namespace flowgate::cli
