// Internals of the process-file loader (definition/loader.h), shared by loader.cpp, the toml_*.cpp
// readers and the validate_*.cpp rule passes. Not part of the public interface.
// Thread-safety: one Context and one LoadState per load; nothing is shared between loads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <toml++/toml.h>

#include "definition/workflow.h"
#include "util/diagnostic.h"

namespace flowgate::loader {

// Rule ids. Stable: tools and people match on them. docs/process-files.md lists every one with
// its meaning and an example message; keep the two in step.
namespace rule {
inline constexpr std::string_view kFileUnreadable = "FILE-UNREADABLE";
inline constexpr std::string_view kFileTooLarge = "FILE-TOO-LARGE";
inline constexpr std::string_view kFileBinary = "FILE-BINARY";
inline constexpr std::string_view kFileEncoding = "FILE-ENCODING";
inline constexpr std::string_view kFileEmpty = "FILE-EMPTY";
inline constexpr std::string_view kTomlSyntax = "TOML-SYNTAX";
inline constexpr std::string_view kTomlTooDeep = "TOML-TOO-DEEP";
inline constexpr std::string_view kSectionUnknown = "SECTION-UNKNOWN";
inline constexpr std::string_view kKeyUnknown = "KEY-UNKNOWN";
inline constexpr std::string_view kKeyMissing = "KEY-MISSING";
inline constexpr std::string_view kValueType = "VALUE-TYPE";
inline constexpr std::string_view kValueInvalid = "VALUE-INVALID";
inline constexpr std::string_view kIdInvalid = "ID-INVALID";
inline constexpr std::string_view kIdDuplicate = "ID-DUPLICATE";
inline constexpr std::string_view kInitialUnknown = "INITIAL-UNKNOWN";
inline constexpr std::string_view kRoleUndeclared = "ROLE-UNDECLARED";
inline constexpr std::string_view kFieldTypeUnknown = "FIELD-TYPE-UNKNOWN";
inline constexpr std::string_view kFieldEnumValues = "FIELD-ENUM-VALUES";
inline constexpr std::string_view kFieldDefaultType = "FIELD-DEFAULT-TYPE";
inline constexpr std::string_view kFieldDefaultRange = "FIELD-DEFAULT-RANGE";
inline constexpr std::string_view kFieldBounds = "FIELD-BOUNDS";
inline constexpr std::string_view kFieldPattern = "FIELD-PATTERN";
inline constexpr std::string_view kFieldCurrency = "FIELD-CURRENCY";
inline constexpr std::string_view kStateUnreachable = "STATE-UNREACHABLE";
inline constexpr std::string_view kStateDeadEnd = "STATE-DEAD-END";
inline constexpr std::string_view kTransitionUnknownState = "TRANSITION-UNKNOWN-STATE";
inline constexpr std::string_view kTransitionFromTerminal = "TRANSITION-FROM-TERMINAL";
inline constexpr std::string_view kTransitionAmbiguous = "TRANSITION-AMBIGUOUS";
inline constexpr std::string_view kPayloadTypeUnknown = "PAYLOAD-TYPE-UNKNOWN";
inline constexpr std::string_view kGuardSyntax = "GUARD-SYNTAX";
inline constexpr std::string_view kGuardType = "GUARD-TYPE";
inline constexpr std::string_view kSetSyntax = "SET-SYNTAX";
inline constexpr std::string_view kSetType = "SET-TYPE";
inline constexpr std::string_view kSetUnknownField = "SET-UNKNOWN-FIELD";
inline constexpr std::string_view kGateUnknown = "GATE-UNKNOWN";
inline constexpr std::string_view kPluginFailed = "PLUGIN-FAILED";
inline constexpr std::string_view kLintGuardsMayOverlap = "LINT-GUARDS-MAY-OVERLAP";
inline constexpr std::string_view kLintNoPathToTerminal = "LINT-NO-PATH-TO-TERMINAL";
inline constexpr std::string_view kLintNoTerminal = "LINT-NO-TERMINAL";
inline constexpr std::string_view kLintFieldUnused = "LINT-FIELD-UNUSED";
inline constexpr std::string_view kLintEventNeverFired = "LINT-EVENT-NEVER-FIRED";
inline constexpr std::string_view kLintTransitionNoRoles = "LINT-TRANSITION-NO-ROLES";
}  // namespace rule

// Limits that keep hostile files from exhausting the stack or the CPU (docs/process-files.md).
inline constexpr int kMaxNestingDepth = 64;            // tables, arrays, dotted keys combined
inline constexpr std::size_t kMaxIdLength = 64;        // state, field, event, role, workflow ids
inline constexpr std::size_t kMaxPatternLength = 512;  // [data] pattern regexes

// Where diagnostics go, and how toml++ positions become SourceLocations.
class Context {
 public:
  Context(std::string_view text, std::string file, Diagnostics& diags);

  const std::string& file() const { return file_; }
  std::string_view text() const { return text_; }
  Diagnostics& diagnostics() { return diags_; }

  SourceLocation at(int line, int column) const { return {file_, line, column}; }
  SourceLocation at(const toml::source_position& p) const;
  SourceLocation at(const toml::node& n) const { return at(n.source().begin); }
  SourceLocation at(const toml::key& k) const { return at(k.source().begin); }
  // A table's own position (its header), or `fallback` when toml++ has none (implicit tables).
  SourceLocation at_table(const toml::table& t, const SourceLocation& fallback) const;

  void error(std::string_view rule, SourceLocation where, std::string message,
             std::string hint = {});
  void warning(std::string_view rule, SourceLocation where, std::string message,
               std::string hint = {});

  // "did you mean 'x'?" for the closest candidate, or "". Bounded in total work per load so that
  // a file with thousands of misspellings cannot make loading quadratic.
  std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates);

  // Byte offset in text() of a toml++ position (1-based line, column in code points), or npos.
  std::size_t offset_of(int line, int column) const;

 private:
  std::string_view text_;
  std::string file_;
  Diagnostics& diags_;
  std::vector<std::size_t> line_starts_;
  std::size_t suggest_budget_;
};

// --- toml_prescan.cpp ------------------------------------------------------------------------

// Checks the raw text before toml++ sees it: size, NUL bytes, UTF-8, nesting depth. Returns false
// (after reporting) when the text must not be parsed.
bool prescan(Context& cx);

// --- toml_read.cpp: typed access with diagnostics ---------------------------------------------

// "a string", "an integer", "a table", ... for messages.
std::string_view describe(const toml::node& n);

// Reports KEY-UNKNOWN for every key of `table` not in `allowed`, with a suggestion. `owner` names
// the table in messages, e.g. "[states.won]".
void check_keys(Context& cx, const toml::table& table,
                std::initializer_list<std::string_view> allowed, std::string_view owner);

enum class Need { kOptional, kRequired };

// Each reader returns the value when present and of the right type; otherwise reports
// KEY-MISSING (required and absent, at `missing_at`) or VALUE-TYPE and returns nullopt.
std::optional<std::string> read_string(Context& cx, const toml::table& t, std::string_view key,
                                       std::string_view owner, Need need,
                                       const SourceLocation& missing_at);
std::optional<std::int64_t> read_int(Context& cx, const toml::table& t, std::string_view key,
                                     std::string_view owner, Need need,
                                     const SourceLocation& missing_at);
std::optional<bool> read_bool(Context& cx, const toml::table& t, std::string_view key,
                              std::string_view owner, Need need, const SourceLocation& missing_at);
// The strings of `list`, each with its node, skipping (after reporting) non-strings (VALUE-TYPE)
// and repeats (ID-DUPLICATE: "<noun> 'x' is listed twice in '<key>' of <owner>").
std::vector<std::pair<std::string, const toml::node*>> read_distinct_strings(
    Context& cx, const toml::array& list, std::string_view key, std::string_view owner,
    std::string_view noun);
// The top-level table `key`: null when absent, or (after reporting VALUE-TYPE) when not a table.
const toml::table* top_level_table(Context& cx, const toml::table& root, std::string_view key,
                                   std::string hint);
// Reports VALUE-TYPE: "`key` in owner must be <expected>, found <describe(n)>".
void report_type(Context& cx, const toml::node& n, std::string_view key, std::string_view owner,
                 std::string_view expected, std::string hint = {});

// User text made fit for a one-line message: whitespace and control characters become single
// spaces, and text longer than `max_chars` code points is cut (on a code point boundary) with
// "...".
std::string excerpt(std::string_view text, std::size_t max_chars = 60);

enum class IdKind {
  kWorkflow,  // ^[a-z][a-z0-9_-]*$
  kRole,      // ^[A-Za-z][A-Za-z0-9_-]*$
  kName,      // ^[a-z][a-z0-9_]*$ : fields, states, events, payload fields
};
bool is_valid_id(std::string_view id, IdKind kind);
// Reports ID-INVALID at `where` unless `id` is valid; returns validity.
bool check_id(Context& cx, std::string_view id, IdKind kind, std::string_view what,
              const SourceLocation& where);

// --- validate_fields.cpp ---------------------------------------------------------------------

// Converts a TOML value to a Value of `type` (defaults, bounds, `set` constants). On failure
// returns nullopt and, when it can say more than "wrong type", explains in `problem`.
std::optional<Value> value_from_toml(const toml::node& n, Type type, std::string& problem);

// --- validate_expressions.cpp: shared with plugin sections that hold guards or `set` tables ----

// Compiles the guard string `node` against `scope`: GUARD-SYNTAX / GUARD-TYPE (must be bool) at the
// offending position, messages prefixed with `what`. Fields it reads are added to `used`.
std::optional<Expression> compile_guard(Context& cx, const toml::node& node, const Scope& scope,
                                        std::string_view what, std::set<std::string>& used);
// Compiles a `set` table (field = expression string or TOML constant) against `scope`, with the
// SET-* rules of transitions. Fields read or written are added to `used`.
std::vector<Assignment> compile_assignments(Context& cx, const toml::table& set, const Workflow& wf,
                                            const Scope& scope, std::set<std::string>& used);

// --- toml_strings.cpp --------------------------------------------------------------------------

// Maps (line, column), 1-based inside the decoded text of the string value `node`, to the file:
// accounts for the quotes, escapes and multi-line strings. Falls back to the node's position.
SourceLocation locate_in_string(const Context& cx, const toml::node& node, int line, int column);

// --- the model under construction ------------------------------------------------------------

// The TOML nodes a transition came from, kept for diagnostics in later passes. Pointers into the
// parsed document, which outlives the LoadState.
struct TransitionNodes {
  const toml::table* table = nullptr;
  std::vector<const toml::node*> from_items;  // parallel to TransitionDef::from
  const toml::node* to = nullptr;
  const toml::node* event = nullptr;
  const toml::node* guard = nullptr;  // a string node, when present and well-typed
  const toml::table* set = nullptr;
  std::vector<const toml::node*> role_items;  // parallel to TransitionDef::roles
  const toml::node* gate = nullptr;
};

struct LoadState {
  LoadState(Context& c, const toml::table& r, Workflow& w) : cx(c), root(r), wf(w) {}

  Context& cx;
  const toml::table& root;
  Workflow& wf;

  SourceLocation workflow_at;             // [workflow] header, or 1:1 when absent
  const toml::node* initial = nullptr;    // [workflow] initial, when a string
  bool roles_table = false;               // a [roles] table exists (even if empty)
  std::vector<const toml::node*> owners;  // parallel to wf.states; null when no owner
  std::vector<TransitionNodes> tnodes;    // parallel to wf.transitions
  std::set<std::string> fields_used;      // data fields referenced (see validate_lint.cpp)
};

// Passes, in the order loader.cpp runs them.
void read_workflow_section(LoadState& st);                                    // toml_model.cpp
void read_roles(LoadState& st);                                               // toml_model.cpp
void read_fields(LoadState& st);                                              // validate_fields.cpp
void read_states(LoadState& st);                                              // toml_model.cpp
void read_transitions(LoadState& st);                                         // toml_model.cpp
void check_sections(LoadState& st, const std::vector<std::string>& claimed);  // toml_model.cpp
void compile_expressions(LoadState& st);                   // validate_expressions.cpp
void check_references(LoadState& st, bool gates_claimed);  // validate_graph.cpp
void check_graph(LoadState& st);                           // validate_graph.cpp
void check_ambiguity(LoadState& st);                       // validate_ambiguity.cpp
void lint_usage(LoadState& st, const std::vector<std::string>& claimed);  // validate_lint.cpp

// "transition #3 (line 40)" for messages.
std::string describe_transition(const LoadState& st, std::size_t index);

}  // namespace flowgate::loader
