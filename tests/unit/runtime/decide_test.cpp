#include <catch2/catch.hpp>

#include "runtime/decide.h"
#include "runtime_support.h"

using namespace flowgate;
using flowgate::testing::actor;
using flowgate::testing::load_fixture;
using nlohmann::json;

namespace {

constexpr std::int64_t kT0 = 1'767'261'600'000;  // 2026-01-01T10:00:00Z

struct Deal {
  std::shared_ptr<const Workflow> wf = load_fixture("tests/fixtures/runtime/deal.toml");
  InstanceState state;

  // Applies the events of `c`, or returns the error.
  Result<std::vector<Event>> run(Command c, std::int64_t now = kT0) {
    auto events = decide(DecideInput{*wf, state.id.empty() ? nullptr : &state, c, now});
    if (!events) return events;
    if (state.id.empty()) state.id = "deal-1";
    for (const auto& e : *events) {
      auto ok = apply(state, e, *wf, now);
      REQUIRE(ok);
    }
    return events;
  }
  Result<std::vector<Event>> start(json data) {
    Command c;
    c.kind = CommandKind::kStart;
    c.workflow_id = "deal";
    c.data = std::move(data);
    c.actor = actor("ann", {"AR"});
    return run(c);
  }
  Result<std::vector<Event>> fire(std::string event, json payload, Actor who) {
    Command c;
    c.kind = CommandKind::kFire;
    c.instance_id = state.id;
    c.event = std::move(event);
    c.payload = std::move(payload);
    c.actor = std::move(who);
    return run(c);
  }
  std::string data(const std::string& field) const {
    return state.data[*wf->field_index(field)].to_string();
  }
};

}  // namespace

TEST_CASE("starting an instance records its initial state, data and defaults", "[decide]") {
  Deal d;
  auto ev = d.start({{"customer", "Acme"}});
  REQUIRE(ev);
  REQUIRE(ev->size() == 1);
  CHECK((*ev)[0].type == "instance_started");
  CHECK((*ev)[0].body["state"] == "open");
  CHECK((*ev)[0].body["data"]["region"] == "EMEA");
  CHECK(d.state.state == "open");
  CHECK(d.state.lifecycle == Lifecycle::kActive);
  CHECK(d.state.last_seq == 1);
  CHECK(d.data("touches") == "0");
}

TEST_CASE("a start without a required field is refused naming the field", "[decide]") {
  Deal d;
  auto ev = d.start(json::object());
  REQUIRE_FALSE(ev);
  CHECK(ev.error().code == ErrorCode::kInvalidData);
  CHECK_THAT(ev.error().message, Catch::Contains("customer"));
}

TEST_CASE("start data of the wrong type, outside its rules or unknown is refused", "[decide]") {
  Deal d;
  CHECK(d.start({{"customer", "Acme"}, {"amount", "lots"}}).error().code ==
        ErrorCode::kInvalidData);
  CHECK(d.start({{"customer", "Acme"}, {"amount", "-5"}}).error().code == ErrorCode::kInvalidData);
  CHECK(d.start({{"customer", "acme"}}).error().code == ErrorCode::kInvalidData);  // pattern
  auto unknown = d.start({{"customer", "Acme"}, {"amout", "5"}});
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().hint == "did you mean `amount`?");
  auto bad_enum = d.start({{"customer", "Acme"}, {"region", "EMAE"}});
  REQUIRE_FALSE(bad_enum);
  CHECK(bad_enum.error().data["allowed"].size() == 3);
}

TEST_CASE("the guard sees the data as it will be after the transition's assignments", "[decide]") {
  Deal d;
  REQUIRE(d.start({{"customer", "Acme"}}));
  // amount is unset before the step; the guard `data.amount > 0` reads the assigned payload value.
  auto ev = d.fire("quote", {{"amount", "250000.00"}}, actor("sam", {"SR"}));
  REQUIRE(ev);
  CHECK(d.state.state == "quoted");
  CHECK(d.data("amount") == "250000.00");
  CHECK(d.data("touches") == "1");
  const json& changes = (*ev)[0].body["changes"];
  CHECK(changes["amount"]["from"].is_null());
  CHECK(changes.contains("touches"));
}

TEST_CASE("a false guard is refused quoting the guard, and nothing changes", "[decide]") {
  Deal d;
  REQUIRE(d.start({{"customer", "Acme"}}));
  auto ev = d.fire("quote", {{"amount", "0"}}, actor("sam", {"SR"}));
  REQUIRE_FALSE(ev);
  CHECK(ev.error().code == ErrorCode::kGuardFailed);
  CHECK_THAT(ev.error().message, Catch::Contains("data.amount > 0"));
  CHECK(d.state.state == "open");
  CHECK(d.state.last_seq == 1);
}

TEST_CASE("an actor without the transition's roles is forbidden, naming the roles", "[decide]") {
  Deal d;
  REQUIRE(d.start({{"customer", "Acme"}}));
  auto ev = d.fire("quote", {{"amount", "10"}}, actor("ann", {"AR"}));
  REQUIRE_FALSE(ev);
  CHECK(ev.error().code == ErrorCode::kForbidden);
  CHECK(ev.error().data["required_roles"] == json({"SR"}));
}

TEST_CASE("an event not allowed in the state lists the events allowed now", "[decide]") {
  Deal d;
  REQUIRE(d.start({{"customer", "Acme"}}));
  auto ev = d.fire("approve", json::object(), actor("dora", {"director"}));
  REQUIRE_FALSE(ev);
  CHECK(ev.error().code == ErrorCode::kEventNotAllowed);
  CHECK(ev.error().data["allowed"] == json({"lose", "quote"}));
  auto typo = d.fire("qoute", json::object(), actor("sam", {"SR"}));
  CHECK(typo.error().hint == "did you mean `quote`?");
}

TEST_CASE("payloads are checked: wrong type, unknown field, missing field, bad enum", "[decide]") {
  Deal d;
  REQUIRE(d.start({{"customer", "Acme"}}));
  auto sr = actor("sam", {"SR"});
  CHECK(d.fire("quote", {{"amount", true}}, sr).error().code == ErrorCode::kInvalidPayload);
  CHECK(d.fire("quote", {{"amount", "5"}, {"note", "x"}}, sr).error().code ==
        ErrorCode::kInvalidPayload);
  CHECK(d.fire("quote", json::object(), sr).error().code == ErrorCode::kInvalidPayload);
  CHECK(d.fire("quote", json::array(), sr).error().code == ErrorCode::kInvalidPayload);
  REQUIRE(d.fire("quote", {{"amount", "5"}}, sr));
  auto bad_enum = d.fire("requote", {{"amount", "6"}, {"region", "MARS"}}, sr);
  CHECK(bad_enum.error().code == ErrorCode::kInvalidPayload);
}

TEST_CASE("where guards overlap, the higher priority transition wins", "[decide]") {
  Deal big;
  REQUIRE(big.start({{"customer", "Acme"}}));
  REQUIRE(big.fire("quote", {{"amount", "150000"}}, actor("sam", {"SR"})));
  REQUIRE(big.fire("close", json::object(), actor("ann", {"AR"})));
  CHECK(big.state.state == "approval");

  Deal small;
  REQUIRE(small.start({{"customer", "Acme"}}));
  REQUIRE(small.fire("quote", {{"amount", "5000"}}, actor("sam", {"SR"})));
  auto ev = small.fire("close", json::object(), actor("ann", {"AR"}));
  REQUIRE(ev);
  CHECK(small.state.state == "won");
  REQUIRE(ev->size() == 2);
  CHECK((*ev)[1].type == "completed");
  CHECK(small.state.lifecycle == Lifecycle::kCompleted);
}

TEST_CASE("a completed instance refuses further commands with a lifecycle error", "[decide]") {
  Deal d;
  REQUIRE(d.start({{"customer", "Acme"}}));
  REQUIRE(d.fire("lose", {{"reason", "budget cut"}}, actor("ann", {"AR"})));
  CHECK(d.state.lifecycle == Lifecycle::kCompleted);
  CHECK(d.data("lost_reason") == "budget cut");
  auto ev = d.fire("quote", {{"amount", "5"}}, actor("sam", {"SR"}));
  CHECK(ev.error().code == ErrorCode::kLifecycle);
  Command cancel;
  cancel.kind = CommandKind::kCancel;
  cancel.instance_id = d.state.id;
  CHECK(d.run(cancel).error().code == ErrorCode::kLifecycle);
}

TEST_CASE("a suspended instance refuses to fire until resumed", "[decide]") {
  Deal d;
  REQUIRE(d.start({{"customer", "Acme"}}));
  Command c;
  c.instance_id = d.state.id;
  c.kind = CommandKind::kSuspend;
  c.reason = "customer on holiday";
  REQUIRE(d.run(c));
  CHECK(d.state.lifecycle == Lifecycle::kSuspended);
  auto refused = d.fire("quote", {{"amount", "5"}}, actor("sam", {"SR"}));
  CHECK(refused.error().code == ErrorCode::kLifecycle);
  CHECK(refused.error().hint == "resume it first");
  CHECK(d.run(c).error().code == ErrorCode::kLifecycle);  // suspend twice
  c.kind = CommandKind::kResume;
  REQUIRE(d.run(c));
  CHECK(d.fire("quote", {{"amount", "5"}}, actor("sam", {"SR"})));
}

TEST_CASE("cancel works from any non-final lifecycle and records the reason", "[decide]") {
  Deal d;
  REQUIRE(d.start({{"customer", "Acme"}}));
  Command c;
  c.instance_id = d.state.id;
  c.kind = CommandKind::kCancel;
  c.reason = "duplicate of deal-7";
  auto ev = d.run(c);
  REQUIRE(ev);
  CHECK((*ev)[0].body["reason"] == "duplicate of deal-7");
  CHECK(d.state.lifecycle == Lifecycle::kCancelled);
}

TEST_CASE("an update patches data, validates it, and an empty change emits nothing", "[decide]") {
  Deal d;
  REQUIRE(d.start({{"customer", "Acme"}}));
  Command c;
  c.instance_id = d.state.id;
  c.kind = CommandKind::kUpdate;
  c.data = {{"region", "APAC"}};
  auto ev = d.run(c);
  REQUIRE(ev);
  REQUIRE(ev->size() == 1);
  CHECK((*ev)[0].type == "data_changed");
  CHECK(d.data("region") == "APAC");
  CHECK(d.run(c)->empty());
  c.data = {{"customer", nullptr}};
  CHECK(d.run(c).error().code == ErrorCode::kInvalidData);  // required
  c.data = {{"touches", "many"}};
  CHECK(d.run(c).error().code == ErrorCode::kInvalidData);
}

TEST_CASE("decide is deterministic: the same inputs give the same events", "[decide]") {
  Deal a, b;
  REQUIRE(a.start({{"customer", "Acme"}}));
  REQUIRE(b.start({{"customer", "Acme"}}));
  auto ea = a.fire("quote", {{"amount", "12.5"}}, actor("sam", {"SR"}));
  auto eb = b.fire("quote", {{"amount", "12.5"}}, actor("sam", {"SR"}));
  REQUIRE(ea);
  REQUIRE(eb);
  CHECK((*ea)[0].body == (*eb)[0].body);
}

TEST_CASE("migration maps the state and carries data to the new version", "[decide]") {
  Deal d;
  auto v2 = load_fixture("tests/fixtures/runtime/deal_v2.toml");
  REQUIRE(d.start({{"customer", "Acme"}}));
  REQUIRE(d.fire("quote", {{"amount", "150000"}}, actor("sam", {"SR"})));
  REQUIRE(d.fire("close", json::object(), actor("ann", {"AR"})));
  REQUIRE(d.state.state == "approval");

  Command c;
  c.kind = CommandKind::kMigrate;
  c.instance_id = d.state.id;
  c.to_version = 2;
  auto unmapped = decide(DecideInput{*d.wf, &d.state, c, kT0, v2.get()});
  REQUIRE_FALSE(unmapped);
  CHECK(unmapped.error().code == ErrorCode::kInvalidMigration);

  c.state_mapping = {{"approval", "nowhere"}};
  CHECK(decide(DecideInput{*d.wf, &d.state, c, kT0, v2.get()}).error().code ==
        ErrorCode::kInvalidMigration);

  c.state_mapping = {{"approval", "review"}};
  auto ev = decide(DecideInput{*d.wf, &d.state, c, kT0, v2.get()});
  REQUIRE(ev);
  REQUIRE(ev->size() == 1);
  const json& body = (*ev)[0].body;
  CHECK(body["to_state"] == "review");
  CHECK(body["data"]["segment"] == "smb");
  CHECK(body["dropped_fields"].size() >= 1);
  REQUIRE(apply(d.state, (*ev)[0], *v2, kT0));
  CHECK(d.state.version == 2);
  CHECK(d.state.state == "review");
  CHECK(d.state.data.size() == v2->fields.size());
}

TEST_CASE("migration to the same or an older version is refused", "[decide]") {
  Deal d;
  REQUIRE(d.start({{"customer", "Acme"}}));
  Command c;
  c.kind = CommandKind::kMigrate;
  c.instance_id = d.state.id;
  c.to_version = 1;
  CHECK(decide(DecideInput{*d.wf, &d.state, c, kT0, d.wf.get()}).error().code ==
        ErrorCode::kInvalidMigration);
}

TEST_CASE("apply refuses a malformed event instead of crashing", "[decide]") {
  Deal d;
  REQUIRE(d.start({{"customer", "Acme"}}));
  CHECK_FALSE(apply(d.state, Event{"transitioned", {{"from", "open"}}}, *d.wf, kT0));
  InstanceState fresh;
  CHECK_FALSE(apply(fresh, Event{"instance_started", {{"data", {{"nope", 1}}}}}, *d.wf, kT0));
  InstanceState done = d.state;
  done.lifecycle = Lifecycle::kCompleted;
  CHECK_FALSE(apply(done, Event{"suspended", json::object()}, *d.wf, kT0));
}
