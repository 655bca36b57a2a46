#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <regex>

#include <unistd.h>

#include "definition/loader.h"
#include "loader_test_support.h"

using namespace flowgate;
using namespace flowgate::test;
namespace fs = std::filesystem;

namespace {

struct Expectation {
  std::string rule;
  int line = 0;
};

// The "# expect: RULE at LINE" lines at the top of a fixture (the first line must be one).
std::vector<Expectation> expectations_of(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<Expectation> out;
  static const std::regex kExpect(R"(^# expect: ([A-Z0-9-]+) at (\d+)\b.*)");
  std::string line;
  while (std::getline(in, line)) {
    std::smatch m;
    if (!std::regex_match(line, m, kExpect)) break;
    out.push_back({m[1], std::stoi(m[2])});
  }
  return out;
}

void check_fixture(const std::string& path) {
  auto expected = expectations_of(path);
  INFO(path);
  REQUIRE_FALSE(expected.empty());
  LoadResult r = load_workflow_file(path, no_sections());
  INFO(listing(r));
  for (const auto& e : expected) {
    INFO("expected " << e.rule << " at line " << e.line);
    CHECK(find_diag(r, e.rule, e.line) != nullptr);
  }
  // A fixture that expects an error must not load; one that expects only warnings may.
  bool expects_error = std::any_of(expected.begin(), expected.end(), [](const Expectation& e) {
    return e.rule.rfind("LINT-", 0) != 0;
  });
  if (expects_error) CHECK_FALSE(r.ok());
  for (const Diagnostic& d : r.diagnostics.items()) {
    CHECK(d.location.file == path);
    CHECK_FALSE(d.rule.empty());
    CHECK_FALSE(d.message.empty());
    CHECK(d.message.find('\n') == std::string::npos);
    CHECK((d.severity == Severity::kWarning) == (d.rule.rfind("LINT-", 0) == 0));
  }
}

}  // namespace

TEST_CASE("every invalid fixture reports its expected rule at its expected line",
          "[validator][fixtures]") {
  std::vector<std::string> paths;
  for (const auto& entry : fs::directory_iterator(fixture_path("invalid"))) {
    if (entry.path().extension() == ".toml") paths.push_back(entry.path().string());
  }
  std::sort(paths.begin(), paths.end());
  CHECK(paths.size() >= 40);
  for (const auto& path : paths) check_fixture(path);
}

TEST_CASE("generated oversized and deeply nested fixtures are refused", "[validator][fixtures]") {
  fs::path dir = fs::temp_directory_path() / ("flowgate-invalid-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  auto write = [&](const std::string& name, const std::string& text) {
    std::string p = (dir / name).string();
    std::ofstream(p, std::ios::binary) << text;
    return p;
  };
  auto padded = [](std::string head, std::size_t size) {
    while (head.size() < size) head += "# filler line of a very large process file\n";
    return head;
  };
  std::vector<std::string> files = {
      write("just_over_4mib.toml",
            padded("# expect: FILE-TOO-LARGE at 0\n", kMaxProcessFileBytes + 1)),
      write("ten_mb.toml", padded("# expect: FILE-TOO-LARGE at 0\n", 10'000'000)),
      write("nested_10000.toml", "# expect: TOML-TOO-DEEP at 2\nx = " + std::string(10'000, '[') +
                                     std::string(10'000, ']') + "\n"),
      write("dotted_10000.toml",
            [] {
              std::string key = "# expect: TOML-TOO-DEEP at 2\nx";
              for (int i = 0; i < 10'000; ++i) key += ".k";
              return key + " = 1\n";
            }()),
  };
  for (const auto& f : files) check_fixture(f);
  fs::remove_all(dir);
}

// --- rule by rule: messages and hints -----------------------------------------------------------

TEST_CASE("a misspelt key gets a did-you-mean hint", "[validator]") {
  auto r = load_text(base_workflow("\n[states.review]\nnmae = \"Review\"\n"));
  const Diagnostic* d = find_diag(r, "KEY-UNKNOWN", 25);
  INFO(listing(r));
  REQUIRE(d);
  CHECK(d->message == "unknown key 'nmae' in [states.review]");
  CHECK(d->hint == "did you mean 'name'?");
  CHECK(d->location.column == 1);
}

TEST_CASE("a key far from any known one lists the allowed keys", "[validator]") {
  auto r = load_text(base_workflow("\n[states.review]\ncolour = \"red\"\n"));
  const Diagnostic* d = find_diag(r, "KEY-UNKNOWN", 25);
  REQUIRE(d);
  CHECK(d->hint == "allowed keys: name, stage, owner, terminal, description");
}

TEST_CASE("every problem in a file is reported in one pass, sorted by line", "[validator]") {
  std::string text = R"toml([workflow]
id = "Bad Id"
name = "Many problems"
version = 0
initial = "strat"

[data.amount]
type = "mony"

[states.start]
nmae = "Start"

[states.middle]

[states.end]
terminal = true

[[transitions]]
from = "start"
to = "nowhere"
event = "go"
guard = "amount >"

[[transitions]]
from = "end"
to = "start"
event = "restart"
)toml";
  auto r = load_text(text);
  INFO(listing(r));
  CHECK(find_diag(r, "ID-INVALID", 2));
  CHECK(find_diag(r, "VALUE-INVALID", 4));
  CHECK(find_diag(r, "INITIAL-UNKNOWN", 5));
  CHECK(find_diag(r, "FIELD-TYPE-UNKNOWN", 8));
  CHECK(find_diag(r, "KEY-UNKNOWN", 11));
  CHECK(find_diag(r, "STATE-DEAD-END", 13));
  CHECK(find_diag(r, "TRANSITION-UNKNOWN-STATE", 20));
  CHECK(find_diag(r, "GUARD-SYNTAX", 22));
  CHECK(find_diag(r, "TRANSITION-FROM-TERMINAL", 25));
  const auto& items = r.diagnostics.items();
  CHECK(std::is_sorted(items.begin(), items.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return std::tie(a.location.line, a.location.column) <
           std::tie(b.location.line, b.location.column);
  }));
  CHECK_FALSE(r.ok());
}

TEST_CASE("the initial state suggestion names the closest state", "[validator]") {
  std::string text = base_workflow();
  text.replace(text.find("initial = \"open\""), 16, "initial = \"opne\"");
  auto r = load_text(text);
  const Diagnostic* d = find_diag(r, "INITIAL-UNKNOWN", 5);
  REQUIRE(d);
  CHECK(d->hint == "did you mean 'open'?");
  CHECK(d->location.column == 11);
}

TEST_CASE("an unknown target state points at the 'to' value", "[validator]") {
  auto r = load_text(
      base_workflow("\n[[transitions]]\nfrom = \"open\"\nto = \"wroking\"\nevent = \"x\"\n"));
  const Diagnostic* d = find_diag(r, "TRANSITION-UNKNOWN-STATE", 26);
  REQUIRE(d);
  CHECK(d->location.column == 6);
  CHECK(d->hint == "did you mean 'working'?");
}

TEST_CASE("from = * does not leave terminal states, so it is not an error there", "[validator]") {
  auto r = load_text(
      base_workflow("\n[[transitions]]\nfrom = \"*\"\nto = \"done\"\nevent = \"cancel\"\n"));
  INFO(listing(r));
  CHECK(r.ok());
  CHECK(r.diagnostics.empty());
}

TEST_CASE("a from = * transition is a way out of every non-terminal state", "[validator]") {
  std::string text = base_workflow(
      "\n[states.parked]\n\n[[transitions]]\nfrom = \"open\"\nto = \"parked\"\nevent = \"park\"\n"
      "\n[[transitions]]\nfrom = \"*\"\nto = \"done\"\nevent = \"cancel\"\n");
  auto r = load_text(text);
  INFO(listing(r));
  CHECK(r.ok());
  CHECK_FALSE(find_diag(r, "STATE-DEAD-END"));
}

TEST_CASE("a state reachable only through from = * counts as reachable", "[validator]") {
  auto r = load_text(base_workflow(
      "\n[states.cancelled]\nterminal = true\n\n[[transitions]]\nfrom = \"*\"\nto = \"cancelled\"\n"
      "event = \"cancel\"\n"));
  INFO(listing(r));
  CHECK(r.ok());
}

TEST_CASE("transitions at different priorities do not compete", "[validator]") {
  auto r = load_text(base_workflow(
      "\n[[transitions]]\nfrom = \"open\"\nto = \"done\"\nevent = \"start\"\npriority = 1\n"));
  INFO(listing(r));
  CHECK(r.ok());
  CHECK_FALSE(find_diag(r, "TRANSITION-AMBIGUOUS"));
}

TEST_CASE("an ambiguous pair sharing several states is reported once", "[validator]") {
  std::string extra = R"toml(
[[transitions]]
from = ["open", "working"]
to = "done"
event = "skip"

[[transitions]]
from = ["open", "working"]
to = "working"
event = "skip"
)toml";
  auto r = load_text(base_workflow(extra));
  INFO(listing(r));
  auto count = std::count_if(r.diagnostics.items().begin(), r.diagnostics.items().end(),
                             [](const Diagnostic& d) { return d.rule == "TRANSITION-AMBIGUOUS"; });
  CHECK(count == 1);
  CHECK(find_diag(r, "TRANSITION-AMBIGUOUS", 29));
}

TEST_CASE("an unguarded transition beside a guarded one at the same priority is ambiguous",
          "[validator]") {
  std::string extra = R"toml(
[data.amount]
type = "money"

[[transitions]]
from = "open"
to = "done"
event = "start"
guard = "amount > 5"
)toml";
  auto r = load_text(base_workflow(extra));
  const Diagnostic* d = find_diag(r, "TRANSITION-AMBIGUOUS", 27);
  INFO(listing(r));
  REQUIRE(d);
  CHECK(d->hint.find("higher priority") != std::string::npos);
}

TEST_CASE("guards that are_exclusive proves disjoint are not reported", "[validator][expr]") {
  std::string extra = R"toml(
[data.approved]
type = "bool"

[[transitions]]
from = "open"
to = "done"
event = "decide"
guard = "approved"

[[transitions]]
from = "open"
to = "working"
event = "decide"
guard = "not approved"
)toml";
  Expression a =
      Expression::compile("approved", {{{"approved", Type::kBool, {}}}, {}, true}).value();
  Expression b =
      Expression::compile("not approved", {{{"approved", Type::kBool, {}}}, {}, true}).value();
  auto r = load_text(base_workflow(extra));
  INFO(listing(r));
  CHECK(r.ok());
  CHECK(static_cast<bool>(find_diag(r, "LINT-GUARDS-MAY-OVERLAP")) == !are_exclusive(a, b));
}

TEST_CASE("a guard must be bool", "[validator]") {
  auto r = load_text(base_workflow(
      "\n[data.amount]\ntype = \"money\"\n\n[[transitions]]\nfrom = \"open\"\nto = \"done\"\n"
      "event = \"x\"\nguard = \"amount * 2\"\n"));
  const Diagnostic* d = find_diag(r, "GUARD-TYPE", 31);
  REQUIRE(d);
  CHECK(d->message == "guard: the expression is money, not bool");
}

TEST_CASE("payload fields are visible to guards and set as event.*", "[validator]") {
  std::string extra = R"toml(
[data.reason]
type = "string"

[data.channel]
type = "enum"
values = ["web", "phone", "chat"]

[[transitions]]
from = "working"
to = "open"
event = "send_back"
payload = { why = "string", via = "enum(web|phone)", note = "string?" }
guard = "len(event.why) > 3 and event.via == 'web'"
set = { reason = "event.why", channel = "event.via" }
)toml";
  auto r = load_text(base_workflow(extra));
  INFO(listing(r));
  CHECK(r.ok());
}

TEST_CASE("an enum payload with members outside the field's values cannot be stored",
          "[validator]") {
  std::string extra = R"toml(
[data.channel]
type = "enum"
values = ["web", "phone"]

[[transitions]]
from = "working"
to = "open"
event = "send_back"
payload = { via = "enum(web|fax)" }
set = { channel = "event.via" }
)toml";
  auto r = load_text(base_workflow(extra));
  const Diagnostic* d = find_diag(r, "SET-TYPE", 33);
  INFO(listing(r));
  REQUIRE(d);
  CHECK(d->message.find("'fax'") != std::string::npos);
}

TEST_CASE("set accepts widening and constants of every TOML kind", "[validator]") {
  std::string extra = R"toml(
[data.amount]
type = "money"

[data.rate]
type = "decimal"

[data.when]
type = "datetime"

[data.day]
type = "date"

[data.label]
type = "string"

[data.tier]
type = "enum"
values = ["gold", "silver"]

[[transitions]]
from = "working"
to = "open"
event = "reset"
set = { amount = 5, rate = 1.25, when = 2026-03-01T09:00:00+01:00, day = 2026-03-01, label = "'x'", tier = "'gold'" }
)toml";
  auto r = load_text(base_workflow(extra));
  INFO(listing(r));
  REQUIRE(r.ok());
  const TransitionDef& t = r.workflow->transitions.back();
  REQUIRE(t.set.size() == 6);
  for (const Assignment& a : t.set) {
    if (a.field == "when") {
      CHECK(a.value.evaluate({}).value() ==
            Value::datetime(*parse_datetime_ms("2026-03-01T08:00:00Z")));
    }
  }
}

TEST_CASE("a set constant of a TOML kind that is no value is refused", "[validator]") {
  auto r = load_text(base_workflow(
      "\n[data.label]\ntype = \"string\"\n\n[[transitions]]\nfrom = \"working\"\nto = \"open\"\n"
      "event = \"x\"\nset = { label = [1, 2] }\n"));
  CHECK(find_diag(r, "SET-TYPE", 31));
}

TEST_CASE("role use without a [roles] table is an error, with a hint to declare it",
          "[validator]") {
  std::string text = base_workflow();
  text.replace(text.find("event = \"start\""), 15, "event = \"start\"\nroles = [\"AR\"]");
  auto r = load_text(text);
  const Diagnostic* d = find_diag(r, "ROLE-UNDECLARED", 18);
  INFO(listing(r));
  REQUIRE(d);
  CHECK(d->message.find("declares no [roles]") != std::string::npos);
}

TEST_CASE("a misspelt role gets a suggestion from [roles]", "[validator]") {
  std::string text = base_workflow("\n[roles]\nAR = \"Account responsible\"\nSR = \"Solution\"\n");
  text.replace(text.find("[states.open]"), 13, "[states.open]\nowner = \"RA\"");
  auto r = load_text(text);
  const Diagnostic* d = find_diag(r, "ROLE-UNDECLARED", 8);
  INFO(listing(r));
  REQUIRE(d);
  CHECK(d->hint == "did you mean 'AR'?");
}

TEST_CASE("transitions without roles are a warning only when roles are declared", "[validator]") {
  auto with_roles = load_text(base_workflow("\n[roles]\nAR = \"Account responsible\"\n"));
  CHECK(with_roles.ok());
  CHECK(find_diag(with_roles, "LINT-TRANSITION-NO-ROLES", 14));
  CHECK(find_diag(with_roles, "LINT-TRANSITION-NO-ROLES", 19));
  CHECK_FALSE(find_diag(load_text(base_workflow()), "LINT-TRANSITION-NO-ROLES"));
}

TEST_CASE("a field only written by set, or required, counts as used", "[validator]") {
  std::string extra = R"toml(
[data.closed_at]
type = "datetime"

[data.customer]
type = "string"
required = true

[data.idle]
type = "int"

[[transitions]]
from = "working"
to = "open"
event = "reopen"
set = { closed_at = "now()" }
)toml";
  auto r = load_text(base_workflow(extra));
  INFO(listing(r));
  CHECK(r.ok());
  CHECK_FALSE(find_diag(r, "LINT-FIELD-UNUSED", 24));
  CHECK_FALSE(find_diag(r, "LINT-FIELD-UNUSED", 27));
  CHECK(find_diag(r, "LINT-FIELD-UNUSED", 31));
}

namespace {
class ClaimsSla : public SectionHandler {
 public:
  std::string name() const override { return "sla"; }
  std::vector<std::string> sections() const override { return {"sla"}; }
  std::shared_ptr<const void> compile(const toml::table&, const Workflow&, const std::string&,
                                      Diagnostics&) const override {
    return nullptr;
  }
};
}  // namespace

TEST_CASE("a field named in a plugin section counts as used", "[validator]") {
  SectionRegistry registry;
  registry.add(std::make_shared<ClaimsSla>());
  std::string text = base_workflow(
      "\n[data.severity]\ntype = \"string\"\n\n[sla.response]\nstart = \"severity == 'S1'\"\n");
  auto r = load_workflow_text(text, "t.toml", registry);
  INFO(listing(r));
  CHECK(r.ok());
  CHECK_FALSE(find_diag(r, "LINT-FIELD-UNUSED"));
  CHECK(find_diag(load_text(text), "LINT-FIELD-UNUSED", 24));
}

TEST_CASE("a gate is accepted once a plugin claims [gates]", "[validator]") {
  class ClaimsGates : public ClaimsSla {
    std::string name() const override { return "gate"; }
    std::vector<std::string> sections() const override { return {"gates"}; }
  };
  SectionRegistry registry;
  registry.add(std::make_shared<ClaimsGates>());
  std::string text = base_workflow();
  text.replace(text.find("event = \"finish\""), 16, "event = \"finish\"\ngate = \"sign_off\"");
  // Claimed, but the file has no [gates] section for the handler to check the gate against.
  CHECK(find_diag(load_workflow_text(text, "t.toml", registry), "GATE-UNKNOWN", 23));
  text += "\n[gates.sign_off]\n";
  CHECK(load_workflow_text(text, "t.toml", registry).ok());
  CHECK(find_diag(load_text(text), "GATE-UNKNOWN", 23));
}

TEST_CASE("field rules: bounds of each type are checked against the default", "[validator]") {
  struct Case {
    std::string field;
    std::string rule;
  };
  std::vector<Case> cases = {
      {"type = \"money\"\nmin = \"10.50\"\ndefault = 10.49", "FIELD-DEFAULT-RANGE"},
      {"type = \"date\"\nmax = 2026-01-01\ndefault = \"2026-01-02\"", "FIELD-DEFAULT-RANGE"},
      {"type = \"duration\"\nmax = \"1h\"\ndefault = \"61m\"", "FIELD-DEFAULT-RANGE"},
      {"type = \"string\"\nmax = 3\ndefault = \"four\"", "FIELD-DEFAULT-RANGE"},
      {"type = \"string\"\nmin = -1", "FIELD-BOUNDS"},
      {"type = \"enum\"\nvalues = [\"a\"]\nmax = 3", "FIELD-BOUNDS"},
      {"type = \"datetime\"\nmin = \"2026-02-01T00:00:00Z\"\nmax = \"2026-01-01T00:00:00Z\"",
       "FIELD-BOUNDS"},
      {"type = \"int\"\ndefault = 1.5", "FIELD-DEFAULT-TYPE"},
      {"type = \"bool\"\ndefault = \"true\"", "FIELD-DEFAULT-TYPE"},
      {"type = \"null\"", "FIELD-TYPE-UNKNOWN"},
      {"type = \"string\"\npattern = \"" + std::string(600, 'a') + "\"", "FIELD-PATTERN"},
  };
  for (const auto& c : cases) {
    auto r = load_text(base_workflow("\n[data.f]\n" + c.field + "\n"));
    INFO(c.field << "\n" << listing(r));
    CHECK(find_diag(r, c.rule));
    CHECK_FALSE(r.ok());
  }
}

TEST_CASE("field rules that fit are accepted", "[validator]") {
  std::vector<std::string> fields = {
      "type = \"money\"\nmin = \"10.50\"\ndefault = 10.5",
      "type = \"string\"\nmin = 2\nmax = 4\ndefault = \"été\"",
      "type = \"datetime\"\ndefault = \"2026-03-01T09:00:00+02:00\"\nmax = 2026-03-01T07:00:00Z",
      "type = \"decimal\"\ndefault = -0.000001",
  };
  for (const auto& f : fields) {
    auto r = load_text(base_workflow("\n[data.f]\n" + f + "\nrequired = true\n"));
    INFO(f << "\n" << listing(r));
    CHECK(r.ok());
    CHECK(r.diagnostics.empty());
  }
}

TEST_CASE("LINT-NO-PATH-TO-TERMINAL is not repeated for dead ends and unreachable states",
          "[validator]") {
  auto r = load_text(base_workflow("\n[states.island]\n"));
  INFO(listing(r));
  CHECK(find_diag(r, "STATE-UNREACHABLE", 24));
  CHECK(find_diag(r, "STATE-DEAD-END", 24));
  CHECK_FALSE(find_diag(r, "LINT-NO-PATH-TO-TERMINAL"));
}

TEST_CASE("diagnostics render as file:line:col: severity[RULE]: message", "[validator]") {
  auto r = load_text(base_workflow("\n[stats]\n"), "ltc.toml");
  REQUIRE_FALSE(r.diagnostics.empty());
  CHECK(r.diagnostics.items()[0].to_string() ==
        "ltc.toml:24:2: error[SECTION-UNKNOWN]: unknown top-level section 'stats'\n"
        "  hint: did you mean 'states'?");
}

TEST_CASE("a group too large to compare pairwise is still an error when one is unguarded",
          "[validator]") {
  auto many = [](bool guarded) {
    std::string extra = "\n[data.n]\ntype = \"int\"\n";
    for (int i = 0; i < 70; ++i) {
      extra += "\n[[transitions]]\nfrom = \"*\"\nto = \"done\"\nevent = \"close\"\n";
      if (guarded || i > 0) extra += "guard = \"n == " + std::to_string(i) + "\"\n";
    }
    return load_text(base_workflow(extra));
  };
  auto one_unguarded = many(false);
  CHECK(find_diag(one_unguarded, "TRANSITION-AMBIGUOUS"));
  CHECK_FALSE(one_unguarded.ok());
  auto all_guarded = many(true);
  INFO(listing(all_guarded));
  const Diagnostic* d = find_diag(all_guarded, "LINT-GUARDS-MAY-OVERLAP");
  REQUIRE(d);
  CHECK(d->message.find("too many to check") != std::string::npos);
  CHECK(all_guarded.ok());
}
