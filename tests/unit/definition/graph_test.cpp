#include <catch2/catch.hpp>

#include <regex>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "definition/graph.h"
#include "definition/loader.h"
#include "support/plugin_sections.h"

using namespace flowgate;

namespace {

std::shared_ptr<const Workflow> load_fixture(const std::string& name) {
  SectionRegistry registry;
  auto result = load_workflow_file(
      std::string(FLOWGATE_SOURCE_DIR) + "/tests/fixtures/graph/" + name, registry);
  for (const auto& d : result.diagnostics.items()) INFO(d.to_string());
  REQUIRE(result.ok());
  return result.workflow;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

bool contains(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

// The text between `open` and the first "\n  }\n" after it: the body of a DOT cluster or a
// Mermaid composite state.
std::string block_after(const std::string& text, const std::string& open) {
  auto begin = text.find(open);
  if (begin == std::string::npos) return "";
  auto end = text.find("\n  }\n", begin);
  return text.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
}

// True when every DOT double-quoted string is closed on the line it opens (we never emit raw
// newlines inside strings) and braces outside strings balance.
bool dot_strings_and_braces_balance(const std::string& dot) {
  bool in_string = false;
  int depth = 0;
  for (std::size_t i = 0; i < dot.size(); ++i) {
    char c = dot[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      } else if (c == '\n') {
        return false;
      }
      continue;
    }
    if (c == '"') in_string = true;
    if (c == '{') ++depth;
    if (c == '}' && --depth < 0) return false;
  }
  return !in_string && depth == 0;
}

// A Mermaid label with our own markup (entity codes, <br/>) removed must contain none of the
// characters Mermaid's grammar or HTML would read.
bool mermaid_label_is_inert(std::string label) {
  label = std::regex_replace(label, std::regex("#[0-9]+;"), "");
  label = std::regex_replace(label, std::regex("<br/>"), "");
  return label.find_first_of("\"<>{}#;:%\\|`&") == std::string::npos;
}

}  // namespace

TEST_CASE("a DOT diagram clusters states by stage, in file order", "[graph]") {
  auto wf = load_fixture("hostile.toml");
  std::string dot = to_dot(*wf);

  std::string front = block_after(dot, "subgraph \"cluster_Front {office}: #1\" {");
  REQUIRE_FALSE(front.empty());
  CHECK(contains(front, "\"intake\" ["));
  CHECK(contains(front, "\"review\" ["));
  CHECK_FALSE(contains(front, "\"done\" ["));

  std::string back = block_after(dot, "subgraph \"cluster_Back office\" {");
  REQUIRE_FALSE(back.empty());
  CHECK(contains(back, "\"done\" ["));
  CHECK(contains(back, "\"dropped\" ["));
  CHECK(dot.find("cluster_Front") < dot.find("cluster_Back"));

  // A state without a stage sits outside every cluster.
  CHECK_FALSE(contains(front, "\"parked\" ["));
  CHECK_FALSE(contains(back, "\"parked\" ["));
  CHECK(contains(dot, "  \"parked\" [label=\"Parked\""));
}

TEST_CASE("a DOT diagram enters the initial state from a start point and double-borders terminals",
          "[graph]") {
  auto wf = load_fixture("hostile.toml");
  std::string dot = to_dot(*wf);
  CHECK(contains(dot, "\"[start]\" [shape=point"));
  CHECK(contains(dot, "\"[start]\" -> \"intake\";"));
  std::regex terminal(R"re("done" \[[^\n]*peripheries=2)re");
  CHECK(std::regex_search(dot, terminal));
  std::regex not_terminal(R"re("review" \[[^\n]*peripheries=2)re");
  CHECK_FALSE(std::regex_search(dot, not_terminal));
}

TEST_CASE("a transition label shows its event, guard, roles and priority", "[graph]") {
  auto wf = load_fixture("hostile.toml");
  std::string dot = to_dot(*wf);
  CHECK(contains(dot, "\"parked\" -> \"review\" [label=\"resume\\nroles: boss\\npriority 5\""));
  CHECK(contains(dot, "\"intake\" -> \"parked\" [label=\"park\\nroles: clerk, boss\""));
  CHECK(contains(dot, "\"review\" -> \"parked\" [label=\"park\\nroles: clerk, boss\""));
}

TEST_CASE("a long guard is shortened with an ellipsis and wrapped on the diagram", "[graph]") {
  auto wf = load_fixture("hostile.toml");
  std::string dot = to_dot(*wf);
  std::smatch m;
  REQUIRE(std::regex_search(dot, m, std::regex(R"re("review" -> "done" \[label="([^"]*)")re")));
  std::string label = m[1];
  std::vector<std::string> lines;
  for (std::size_t start = 0;;) {
    std::size_t end = label.find("\\n", start);
    lines.push_back(
        label.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) break;
    start = end + 2;
  }
  REQUIRE(lines.size() >= 4);
  CHECK(lines.front() == "approve");
  CHECK(lines.back() == "roles: boss");
  std::string guard;
  for (std::size_t i = 1; i + 1 < lines.size(); ++i) {
    CHECK(lines[i].size() <= kGraphGuardLineChars + 4);
    guard += (i > 1 ? " " : "") + lines[i];
  }
  CHECK(guard.rfind("[data.amount >= 100 and data.amount < 100000", 0) == 0);
  CHECK(guard.substr(guard.size() - 4) == "…]");
  std::size_t code_points = 0;
  for (char c : guard) code_points += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  CHECK(code_points == kGraphGuardMaxChars + 2);  // plus the brackets
}

TEST_CASE("transitions from any state leave one 'any open state' node", "[graph]") {
  auto wf = load_fixture("hostile.toml");
  std::string dot = to_dot(*wf);
  CHECK(contains(dot, "\"[any]\" [shape=box, style=\"rounded,dashed\", label=\"any open state\""));
  CHECK(contains(dot, "\"[any]\" -> \"dropped\" [label=\"drop\\nroles: boss\", style=dashed];"));
  CHECK_FALSE(contains(dot, "\"intake\" -> \"dropped\""));

  std::string mermaid = to_mermaid(*wf);
  CHECK(contains(mermaid, "  state \"any open state\" as any_open_state\n"));
  CHECK(contains(mermaid, "  any_open_state --> dropped : drop<br/>roles#58; boss\n"));
}

TEST_CASE("a transition with many sources meets in one junction before its target", "[graph]") {
  auto wf = load_fixture("hostile.toml");
  std::string dot = to_dot(*wf);
  CHECK(contains(dot, "  \"[junction 6]\" [shape=point"));
  for (const char* from : {"intake", "review", "parked"}) {
    INFO(from);
    CHECK(contains(dot, fmt::format("  \"{}\" -> \"[junction 6]\" [arrowhead=none", from)));
  }
  CHECK(contains(dot, "  \"[junction 6]\" -> \"dropped\" [label=\"withdraw\\nroles: clerk\"];"));

  std::string mermaid = to_mermaid(*wf);
  CHECK(contains(mermaid, "  state junction_6 <<join>>\n"));
  CHECK(contains(mermaid, "  parked --> junction_6\n"));
  CHECK(contains(mermaid, "  junction_6 --> dropped : withdraw<br/>roles#58; clerk\n"));
}

TEST_CASE("Mermaid draws the transitions between two states as one arrow, DOT as several",
          "[graph]") {
  auto wf = load_fixture("hostile.toml");
  std::string mermaid = to_mermaid(*wf);
  std::size_t arrows = 0;
  for (const auto& line : lines_of(mermaid)) arrows += line.rfind("  review --> parked", 0) == 0;
  CHECK(arrows == 1);
  CHECK(contains(mermaid,
                 "  review --> parked : park<br/>roles#58; clerk, boss<br/>hold<br/>roles#58; "
                 "boss\n"));

  std::string dot = to_dot(*wf);
  CHECK(contains(dot, "\"review\" -> \"parked\" [label=\"park\\nroles: clerk, boss\"];"));
  CHECK(contains(dot, "\"review\" -> \"parked\" [label=\"hold\\nroles: boss\"];"));
}

TEST_CASE("a merged Mermaid arrow names a shared event and shared roles once", "[graph]") {
  auto itr = load_workflow_file(std::string(FLOWGATE_SOURCE_DIR) + "/workflows/itr.toml",
                                test::plugin_sections());
  REQUIRE(itr.ok());
  std::string mermaid = to_mermaid(*itr.workflow);
  std::string grade;
  for (const auto& line : lines_of(mermaid)) {
    if (line.rfind("  registered --> graded : ", 0) == 0) grade = line;
  }
  REQUIRE_FALSE(grade.empty());
  auto count = [&](const std::string& needle) {
    std::size_t n = 0;
    for (auto at = grade.find(needle); at != std::string::npos; at = grade.find(needle, at + 1))
      ++n;
    return n;
  };
  CHECK(count(": grade<br/>") == 1);
  CHECK(count("#91;event.impact ==") == 9);
  CHECK(count("roles#58; service_desk") == 1);
}

TEST_CASE("names and guards from the file cannot break out of DOT strings", "[graph]") {
  auto wf = load_fixture("hostile.toml");
  std::string dot = to_dot(*wf);
  CHECK(dot_strings_and_braces_balance(dot));
  // Quotes are escaped, backslashes doubled (so \N and \l stay literal), newlines become \n.
  CHECK(contains(dot, R"(label="Intake \"quoted\" <script>alert(1)</script>\nowner: clerk")"));
  CHECK(contains(dot, R"(label="Review \\N \\l; 100% done\nowner: boss")"));
  CHECK(contains(dot, R"(label="submit\n[data.note != 'a \"b\" <c>']\nroles: clerk")"));
  CHECK(contains(dot, R"(tooltip="intake: line one line two")"));
  CHECK(contains(dot, R"x(label="Say \"hi\" <b>bold</b> second line (hostile v2)")x"));
}

TEST_CASE("a Mermaid diagram has start and end markers and one composite state per stage",
          "[graph]") {
  auto wf = load_fixture("hostile.toml");
  std::string mermaid = to_mermaid(*wf);
  auto lines = lines_of(mermaid);
  REQUIRE(lines.size() > 4);
  CHECK(lines[0] == "---");
  CHECK(lines[2] == "---");
  CHECK(lines[3] == "stateDiagram-v2");
  CHECK(contains(mermaid, "\n  [*] --> intake\n"));
  CHECK(contains(mermaid, "\n  done --> [*]\n"));
  CHECK(contains(mermaid, "\n  dropped --> [*]\n"));
  CHECK_FALSE(contains(mermaid, "\n  review --> [*]\n"));

  std::string front = block_after(
      mermaid, "  state \"Front #123;office#125;#58; #35;1\" as stage_Front__office____1 {");
  REQUIRE_FALSE(front.empty());
  CHECK(contains(front, "\n    intake"));
  CHECK(contains(front, "\n    review"));
  std::string back = block_after(mermaid, "  state \"Back office\" as stage_Back_office {");
  REQUIRE_FALSE(back.empty());
  CHECK(contains(back, "\n    done"));
  CHECK(contains(back, "\n    dropped"));
  CHECK_FALSE(contains(mermaid, "\n    parked"));
}

TEST_CASE("names and guards from the file are inert in Mermaid labels", "[graph]") {
  auto wf = load_fixture("hostile.toml");
  std::string mermaid = to_mermaid(*wf);
  int labels = 0;
  std::regex state_line(R"re(^  state "([^"]*)" as [A-Za-z_][A-Za-z0-9_]*( \{)?$)re");
  std::regex edge_line(R"re(^  [A-Za-z_][A-Za-z0-9_]* --> [A-Za-z_][A-Za-z0-9_]* : (.*)$)re");
  for (const auto& line : lines_of(mermaid)) {
    std::smatch m;
    if (std::regex_match(line, m, state_line) || std::regex_match(line, m, edge_line)) {
      INFO(line);
      CHECK(mermaid_label_is_inert(m[1]));
      ++labels;
    }
  }
  CHECK(labels == 5 + 1 + 2 + 7);  // states, any-state, stages, labelled arrows
  CHECK(contains(mermaid, "title: \"Say \\\"hi\\\" <b>bold</b> second line (hostile v2)\""));
  CHECK(contains(mermaid,
                 "intake --> review : submit<br/>#91;data.note != 'a #34;b#34; #60;c#62;'#93;"));
}

TEST_CASE("Mermaid ids are sanitised, unique and never keywords", "[graph]") {
  Workflow wf;
  wf.id = "ids";
  wf.name = "Ids";
  for (const char* id : {"end", "9lives", "a-b", "a_b", "plain"}) {
    StateDef s;
    s.id = id;
    s.name = id;
    wf.states.push_back(s);
  }
  wf.initial = "end";
  TransitionDef t;
  t.from = {"a-b"};
  t.to = "a_b";
  t.event = "go";
  wf.transitions.push_back(t);

  std::string mermaid = to_mermaid(wf);
  CHECK(contains(mermaid, "  state \"end\" as s_end\n"));
  CHECK(contains(mermaid, "  state \"9lives\" as s_9lives\n"));
  CHECK(contains(mermaid, "  state \"a#45;b\" as a_b\n"));
  CHECK(contains(mermaid, "  state \"a_b\" as a_b_2\n"));
  CHECK(contains(mermaid, "  state \"plain\" as plain\n"));
  CHECK(contains(mermaid, "  [*] --> s_end\n"));
  CHECK(contains(mermaid, "  a_b --> a_b_2 : go\n"));
}

TEST_CASE("plugin annotations are added to state and transition labels", "[graph]") {
  auto wf = load_fixture("hostile.toml");
  GraphAnnotations notes;
  notes.state_notes["review"] = {"SLA: resolve within 4h"};
  notes.transition_notes[3] = {"gate round 1 of 2"};  // approve
  std::string dot = to_dot(*wf, notes);
  CHECK(contains(dot, "\\nowner: boss\\nSLA: resolve within 4h\""));
  CHECK(contains(dot, "roles: boss\\ngate round 1 of 2\""));
  std::string mermaid = to_mermaid(*wf, notes);
  CHECK(contains(mermaid, "<br/>owner#58; boss<br/>SLA#58; resolve within 4h\" as review"));
  CHECK(contains(mermaid, "roles#58; boss<br/>gate round 1 of 2\n"));
}

TEST_CASE("diagrams are deterministic", "[graph]") {
  auto a = load_fixture("hostile.toml");
  auto b = load_fixture("hostile.toml");
  CHECK(to_dot(*a) == to_dot(*b));
  CHECK(to_mermaid(*a) == to_mermaid(*b));
}
