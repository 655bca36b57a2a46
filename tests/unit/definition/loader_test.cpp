#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "definition/digest.h"
#include "definition/loader.h"
#include "loader_test_support.h"

using namespace flowgate;
using namespace flowgate::test;
namespace fs = std::filesystem;

namespace {

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// A scratch directory removed when the test ends.
struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() /
           ("flowgate-loader-" + std::to_string(reinterpret_cast<std::uintptr_t>(this)) + "-" +
            std::to_string(std::rand()));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string write(const std::string& name, const std::string& content) const {
    std::string p = (path / name).string();
    std::ofstream(p, std::ios::binary) << content;
    return p;
  }
};

std::shared_ptr<const Workflow> load_valid(const std::string& fixture) {
  auto r = load_workflow_file(fixture_path("valid/" + fixture), no_sections());
  INFO(listing(r));
  REQUIRE(r.ok());
  return r.workflow;
}

}  // namespace

TEST_CASE("every valid fixture loads with no diagnostics at all", "[loader]") {
  int count = 0;
  for (const auto& entry : fs::directory_iterator(fixture_path("valid"))) {
    if (entry.path().extension() != ".toml") continue;
    ++count;
    auto r = load_workflow_file(entry.path().string(), no_sections());
    INFO(entry.path().string() << "\n" << listing(r));
    CHECK(r.ok());
    CHECK(r.diagnostics.empty());
  }
  CHECK(count >= 4);
}

TEST_CASE("fields, states and roles keep their file order", "[loader]") {
  auto wf = load_valid("every_feature.toml");
  std::vector<std::string> fields;
  for (const auto& f : wf->fields) fields.push_back(f.name);
  CHECK(fields == std::vector<std::string>{"title", "region", "seats", "discount", "amount",
                                           "approved", "close_by", "signed_at", "response_time",
                                           "channel", "notes"});
  std::vector<std::string> states;
  for (const auto& s : wf->states) states.push_back(s.id);
  CHECK(states == std::vector<std::string>{"draft", "review", "approved", "rejected", "cancelled"});
  REQUIRE(wf->roles.size() == 3);
  CHECK(wf->roles[0].id == "AR");
  CHECK(wf->roles[2].id == "fin-Lead_2");
  CHECK(wf->roles[2].description == "Finance lead");
}

TEST_CASE("the workflow header is read into the model", "[loader]") {
  auto wf = load_valid("every_feature.toml");
  CHECK(wf->id == "every-feature_1");
  CHECK(wf->name == "Every feature");
  CHECK(wf->version == 7);
  CHECK(wf->initial == "draft");
  CHECK(wf->description == "A workflow that uses every part of the process-file format.");
}

TEST_CASE("field rules become typed values", "[loader]") {
  auto wf = load_valid("every_feature.toml");
  const FieldDef* title = wf->field("title");
  REQUIRE(title);
  CHECK(title->type == Type::kString);
  CHECK(title->required);
  CHECK(title->min == Value::integer(3));
  CHECK(title->max == Value::integer(80));
  CHECK(title->pattern == "^[A-Z]");
  CHECK(wf->field("region")->enum_values == std::vector<std::string>{"APAC", "EMEA", "AMER"});
  CHECK(wf->field("region")->default_value == Value::enum_member("EMEA"));
  CHECK(wf->field("discount")->default_value == Value::decimal_units(150'000));
  CHECK(wf->field("discount")->max == Value::decimal_units(500'000));
  CHECK(wf->field("amount")->currency == "EUR");
  CHECK(wf->field("amount")->default_value == Value::money_units(1'250'500'000));
  CHECK(wf->field("close_by")->default_value == Value::date(*parse_date_days("2026-12-31")));
  CHECK(wf->field("signed_at")->min == Value::datetime(*parse_datetime_ms("2026-01-01T00:00:00Z")));
  CHECK(wf->field("signed_at")->max == Value::datetime(*parse_datetime_ms("2099-12-31T22:59:59Z")));
  CHECK(wf->field("response_time")->default_value == Value::duration(4 * 3'600'000 + 30 * 60'000));
  CHECK(wf->field("approved")->default_value == Value::boolean(false));
  CHECK_FALSE(wf->field("notes")->default_value.has_value());
  CHECK(wf->field("missing") == nullptr);
  CHECK(wf->field_index("seats") == 2u);
}

TEST_CASE("states carry their display name, stage, owner and terminal flag", "[loader]") {
  auto wf = load_valid("every_feature.toml");
  const StateDef* review = wf->state("review");
  REQUIRE(review);
  CHECK(review->name == "In review");
  CHECK(review->stage == "MO");
  CHECK(review->owner == "fin-Lead_2");
  CHECK_FALSE(review->terminal);
  CHECK(wf->state("approved")->name == "approved");  // defaults to the id
  CHECK(wf->state("cancelled")->terminal);
  CHECK(wf->state("nowhere") == nullptr);
  CHECK(wf->has_role("SR"));
  CHECK_FALSE(wf->has_role("sr"));
}

TEST_CASE("transitions carry guards, payloads, assignments and priorities", "[loader]") {
  auto wf = load_valid("every_feature.toml");
  REQUIRE(wf->transitions.size() == 6);
  const TransitionDef& submit = wf->transitions[0];
  CHECK(submit.index == 0);
  CHECK(submit.from == std::vector<std::string>{"draft"});
  CHECK(submit.to == "review");
  CHECK(submit.roles == std::vector<std::string>{"AR"});
  REQUIRE(submit.guard);
  CHECK(submit.guard->type() == Type::kBool);
  REQUIRE(submit.payload.size() == 3);
  CHECK(submit.payload[0].name == "note");
  CHECK_FALSE(submit.payload[0].required);
  CHECK(submit.payload[1].type == Type::kEnum);
  CHECK(submit.payload[1].enum_values == std::vector<std::string>{"web", "phone"});
  CHECK(submit.payload[1].required);
  CHECK(submit.payload[2].type == Type::kDuration);
  REQUIRE(submit.set.size() == 3);
  CHECK(submit.set[0].field == "notes");
  CHECK(submit.set[0].field_index == *wf->field_index("notes"));
  CHECK(submit.where.line > 0);

  const TransitionDef& approve = wf->transitions[1];
  CHECK(approve.from == std::vector<std::string>{"review", "draft"});
  CHECK(approve.priority == 10);
  REQUIRE(approve.set.size() == 5);
  auto set_value = [&](const std::string& field) {
    for (const auto& a : approve.set) {
      if (a.field == field) return a.value.evaluate({}).value();
    }
    throw std::runtime_error("no assignment to " + field);
  };
  CHECK(set_value("approved") == Value::boolean(true));
  CHECK(set_value("close_by") == Value::date(*parse_date_days("2026-06-30")));
  CHECK(set_value("seats") == Value::integer(25));
  CHECK(set_value("discount") == Value::decimal_units(200'000));

  const TransitionDef& cancel = wf->transitions[5];
  CHECK(cancel.from_any);
  CHECK(cancel.from.empty());
  CHECK(cancel.priority == -1);
}

TEST_CASE("candidates are ordered by priority, then file order, and include from = *", "[loader]") {
  auto wf = load_valid("every_feature.toml");
  auto approve = wf->candidates("draft", "approve");
  REQUIRE(approve.size() == 2);
  CHECK(approve[0]->index == 1);
  CHECK(approve[1]->index == 2);
  auto cancel = wf->candidates("review", "cancel");
  REQUIRE(cancel.size() == 1);
  CHECK(cancel[0]->from_any);
  CHECK(wf->candidates("cancelled", "cancel").empty());  // "*" skips terminal states
  CHECK(wf->candidates("nowhere", "cancel").empty());
  CHECK(wf->candidates("draft", "finish").empty());
}

TEST_CASE("events_from lists the distinct events leaving a state, sorted", "[loader]") {
  auto wf = load_valid("every_feature.toml");
  CHECK(wf->events_from("draft") == std::vector<std::string>{"approve", "cancel", "submit"});
  CHECK(wf->events_from("approved") == std::vector<std::string>{"cancel", "finish", "reopen"});
  CHECK(wf->events_from("rejected").empty());
  CHECK(wf->events_from("nowhere").empty());
}

TEST_CASE("the data scope lists fields in slot order with enum members", "[loader]") {
  auto wf = load_valid("every_feature.toml");
  Scope scope = wf->data_scope();
  REQUIRE(scope.data.size() == wf->fields.size());
  CHECK(scope.data[1].name == "region");
  CHECK(scope.data[1].type == Type::kEnum);
  CHECK(scope.data[1].enum_values.size() == 3);
  CHECK(scope.event.empty());
}

TEST_CASE("the content hash is the SHA-256 of the exact text", "[loader]") {
  CHECK(digest::sha256_hex("abc") ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  std::string text = base_workflow();
  auto a = load_text(text);
  auto b = load_text(text + "# a comment changes the hash\n");
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(a.workflow->content_hash == digest::sha256_hex(text));
  CHECK(a.workflow->source_text == text);
  CHECK(a.workflow->content_hash != b.workflow->content_hash);
}

TEST_CASE("a file load records its path; a text load does not", "[loader]") {
  std::string path = fixture_path("valid/minimal.toml");
  auto from_file = load_workflow_file(path, no_sections());
  REQUIRE(from_file.ok());
  CHECK(from_file.workflow->file == path);
  CHECK(from_file.workflow->source_text == read_all(path));
  auto from_text = load_text(read_all(path), "named.toml");
  REQUIRE(from_text.ok());
  CHECK(from_text.workflow->file.empty());
}

TEST_CASE("a missing file or a directory is FILE-UNREADABLE", "[loader]") {
  auto missing = load_workflow_file("/nonexistent/flowgate/x.toml", no_sections());
  CHECK_FALSE(missing.ok());
  CHECK(find_diag(missing, "FILE-UNREADABLE"));
  TempDir dir;
  auto directory = load_workflow_file(dir.path.string(), no_sections());
  CHECK(find_diag(directory, "FILE-UNREADABLE"));
}

TEST_CASE("files over 4 MiB are refused before parsing", "[loader]") {
  TempDir dir;
  // Valid TOML, so only the size can be the reason.
  std::string just_over(kMaxProcessFileBytes + 1, '\n');
  std::string ten_mb(10 * 1000 * 1000, '#');
  for (const std::string* text : {&just_over, &ten_mb}) {
    auto from_file = load_workflow_file(dir.write("big.toml", *text), no_sections());
    INFO(listing(from_file));
    REQUIRE(from_file.diagnostics.items().size() == 1);
    CHECK(from_file.diagnostics.items()[0].rule == "FILE-TOO-LARGE");
    auto from_text = load_text(*text);
    REQUIRE(from_text.diagnostics.items().size() == 1);
    CHECK(from_text.diagnostics.items()[0].rule == "FILE-TOO-LARGE");
  }
  std::string at_limit(kMaxProcessFileBytes, '\n');
  CHECK_FALSE(find_diag(load_text(at_limit), "FILE-TOO-LARGE"));
}

TEST_CASE("NUL bytes are refused as binary, with their position", "[loader]") {
  auto r = load_text(std::string("[workflow]\nid = \"a\0b\"\n", 22));
  const Diagnostic* d = find_diag(r, "FILE-BINARY");
  REQUIRE(d);
  CHECK(d->location.line == 2);
  CHECK(d->location.column == 8);
}

TEST_CASE("invalid UTF-8 is refused with its position", "[loader]") {
  for (std::string bad : {"\xff", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x82"}) {
    auto r = load_text("[workflow]\nname = \"ok é " + bad + "\"\n");
    const Diagnostic* d = find_diag(r, "FILE-ENCODING");
    INFO(listing(r));
    REQUIRE(d);
    CHECK(d->location.line == 2);
    CHECK(d->location.column == 14);
  }
  CHECK_FALSE(find_diag(load_text(base_workflow("# café ✓ 𝄞\n")), "FILE-ENCODING"));
}

TEST_CASE("TOML syntax errors carry toml++'s line and column", "[loader]") {
  auto r = load_text(base_workflow("\n[states.broken\nname = 1\n"));
  const Diagnostic* d = find_diag(r, "TOML-SYNTAX");
  INFO(listing(r));
  REQUIRE(d);
  CHECK(d->location.line == 24);
  CHECK(d->location.column > 1);
  CHECK(r.diagnostics.items().size() == 1);
}

TEST_CASE("duplicate keys and tables are syntax errors with a hint", "[loader]") {
  auto key = load_text("[workflow]\nid = \"a\"\nname = \"x\"\nid = \"b\"\n");
  const Diagnostic* d = find_diag(key, "TOML-SYNTAX", 4);
  REQUIRE(d);
  CHECK(d->hint.find("only once") != std::string::npos);
  auto table = load_text(base_workflow("\n[states.open]\nname = \"again\"\n"));
  CHECK(find_diag(table, "TOML-SYNTAX", 24));
}

TEST_CASE("10,000-deep nesting is refused without crashing", "[loader]") {
  const int n = 10'000;
  std::string arrays = "x = " + std::string(n, '[') + std::string(n, ']') + "\n";
  std::string inline_tables = "x = ";
  for (int i = 0; i < n; ++i) inline_tables += "{a=";
  inline_tables += "1" + std::string(n, '}') + "\n";
  std::string dotted = "x";
  for (int i = 0; i < n; ++i) dotted += ".a";
  std::string header = "[" + dotted + "]\nb = 1\n";
  dotted += " = 1\n";
  std::string million = "x";
  while (million.size() < 2'000'000) million += ".a";
  million += " = 1\n";
  for (const std::string* text : {&arrays, &inline_tables, &dotted, &header, &million}) {
    auto r = load_text(*text);
    INFO(listing(r));
    CHECK(find_diag(r, "TOML-TOO-DEEP", 1));
  }
}

TEST_CASE("nesting at a sane depth is not mistaken for deep nesting", "[loader]") {
  std::string extra = "\n[ext.a.b.c.d]\nlist = [[1, 2], [3.5, 4.25]]\nq = \"a.b.c.d.e.f.g.h\"\n";
  auto r = load_text(base_workflow(extra));
  CHECK_FALSE(find_diag(r, "TOML-TOO-DEEP"));
  CHECK(find_diag(r, "SECTION-UNKNOWN"));
}

TEST_CASE("an empty file, or one holding only comments, defines nothing", "[loader]") {
  for (std::string text : {"", "   \n\n", "# just a comment\n"}) {
    auto r = load_text(text);
    const Diagnostic* d = find_diag(r, "FILE-EMPTY", 1);
    REQUIRE(d);
    CHECK(r.diagnostics.items().size() == 1);
  }
}

namespace {
// Where the GUARD-TYPE error of a transition with this `guard = ...` line (file line 28) points.
SourceLocation guard_error_at(const std::string& guard_line) {
  auto r =
      load_text(base_workflow("\n[[transitions]]\nfrom = \"open\"\nto = \"done\"\n"
                              "event = \"skip\"\n" +
                              guard_line + "\n"));
  const Diagnostic* d = find_diag(r, "GUARD-TYPE");
  INFO(listing(r));
  REQUIRE(d);
  return d->location;
}
}  // namespace

TEST_CASE("guard errors point inside the expression in the file", "[loader][expr]") {
  // The unknown name starts at column 20: "guard = " is 8 columns, the quote 1.
  auto single = guard_error_at("guard = \"1 < 2 and amout > 3\"");
  CHECK(single.line == 28);
  CHECK(single.column == 20);

  // A multi-line string: the newline after """ is trimmed, so the second expression line is
  // file line 30 and its column is the file column.
  auto multi = guard_error_at("guard = \"\"\"\n1 < 2\n  and amout > 3\n\"\"\"");
  CHECK(multi.line == 30);
  CHECK(multi.column == 7);

  // Escapes count as one character of the expression but several of the file.
  auto escaped = guard_error_at("guard = \"\\u0031 < 2 and amout\"");
  CHECK(escaped.line == 28);
  CHECK(escaped.column == 25);

  // A literal string after a line-ending backslash continuation in a multi-line basic string.
  auto continued = guard_error_at("guard = \"\"\"1 < 2 \\\n     and amout\"\"\"");
  CHECK(continued.line == 29);
  CHECK(continued.column == 10);
  auto literal = guard_error_at("guard = '1 < 2 and amout'");
  CHECK(literal.column == 20);
}

namespace {

// A plugin that claims [sla.*] and records what it saw.
class FakeSla : public SectionHandler {
 public:
  std::string name() const override { return "sla"; }
  std::vector<std::string> sections() const override { return {"sla", "ola"}; }
  std::shared_ptr<const void> compile(const toml::table& root, const Workflow& wf,
                                      const std::string& file, Diagnostics& diags) const override {
    if (throws) throw std::runtime_error("boom");
    for (auto&& [key, value] : *root["sla"].as_table()) {
      if (!value.as_table()->contains("target")) {
        diags.error("SLA-TARGET-MISSING", {file, static_cast<int>(key.source().begin.line), 1},
                    "no target");
      }
    }
    return std::make_shared<std::string>(wf.id + ":" +
                                         std::to_string(root["sla"].as_table()->size()));
  }
  bool throws = false;
};

}  // namespace

TEST_CASE("a plugin's sections are handed to its handler and the result is kept", "[loader]") {
  SectionRegistry registry;
  registry.add(std::make_shared<FakeSla>());
  auto r =
      load_workflow_text(base_workflow("\n[sla.response]\ntarget = \"4h\"\n"), "t.toml", registry);
  INFO(listing(r));
  REQUIRE(r.ok());
  const auto* ext = r.workflow->extension<std::string>("sla");
  REQUIRE(ext);
  CHECK(*ext == "base:1");
  CHECK(r.workflow->extension<std::string>("gate") == nullptr);
}

TEST_CASE("a plugin's diagnostics are merged, sorted with the core ones", "[loader]") {
  SectionRegistry registry;
  registry.add(std::make_shared<FakeSla>());
  auto r = load_workflow_text(base_workflow("\n[sla.response]\nwarn = 1\n[states.x]\n"), "t.toml",
                              registry);
  CHECK_FALSE(r.ok());
  REQUIRE(find_diag(r, "SLA-TARGET-MISSING", 24));
  REQUIRE(find_diag(r, "STATE-UNREACHABLE", 26));
  CHECK(r.diagnostics.items().front().rule == "SLA-TARGET-MISSING");
}

TEST_CASE("a plugin that throws becomes a diagnostic, not a crash", "[loader]") {
  SectionRegistry registry;
  auto sla = std::make_shared<FakeSla>();
  sla->throws = true;
  registry.add(sla);
  auto r = load_workflow_text(base_workflow("\n[ola.l1]\ntarget = \"2h\"\n"), "t.toml", registry);
  CHECK(find_diag(r, "PLUGIN-FAILED"));
}

TEST_CASE("sections no plugin claims are unknown, with a suggestion", "[loader]") {
  SectionRegistry registry;
  registry.add(std::make_shared<FakeSla>());
  auto r =
      load_workflow_text(base_workflow("\n[sal.response]\ntarget = \"4h\"\n"), "t.toml", registry);
  const Diagnostic* d = find_diag(r, "SECTION-UNKNOWN", 24);
  REQUIRE(d);
  CHECK(d->hint == "did you mean 'sla'?");
  auto plain = load_text(base_workflow("\n[sla.response]\ntarget = \"4h\"\n"));
  CHECK(find_diag(plain, "SECTION-UNKNOWN", 24));
}

TEST_CASE("the registry refuses conflicting claims and lists claimed sections", "[loader]") {
  SectionRegistry registry;
  registry.add(std::make_shared<FakeSla>());
  CHECK_THROWS_AS(registry.add(std::make_shared<FakeSla>()), std::invalid_argument);
  CHECK(registry.claimed_sections() == std::vector<std::string>{"ola", "sla"});
  CHECK(registry.find("ola") != nullptr);
  CHECK(registry.find("gates") == nullptr);

  class ClaimsStates : public FakeSla {
    std::vector<std::string> sections() const override { return {"states"}; }
  };
  CHECK_THROWS_AS(SectionRegistry().add(std::make_shared<ClaimsStates>()), std::invalid_argument);
}

TEST_CASE("the complete example in docs/process-files.md loads with no diagnostics", "[loader]") {
  std::string doc = read_all(std::string(FLOWGATE_SOURCE_DIR) + "/docs/process-files.md");
  std::size_t section = doc.find("## A complete example");
  REQUIRE(section != std::string::npos);
  std::size_t start = doc.find("```toml\n", section);
  REQUIRE(start != std::string::npos);
  start += 8;
  std::size_t end = doc.find("\n```", start);
  REQUIRE(end != std::string::npos);
  auto r = load_text(doc.substr(start, end - start + 1), "process-files.md");
  INFO(listing(r));
  CHECK(r.ok());
  CHECK(r.diagnostics.empty());
}
