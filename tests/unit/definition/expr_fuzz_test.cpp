// Randomised robustness: random bytes, token soups and mutated guards go through compile(); what
// compiles is evaluated on random inputs. Nothing may crash (the sanitizer build runs this too),
// every error must be well-formed, and every result must have the expression's static type.
// Seeds are fixed so that a failure reproduces.
#include <limits>
#include <random>

#include "expr_test_support.h"

using namespace flowgate;
using namespace flowgate::test;

namespace {

constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();

class Fuzzer {
 public:
  explicit Fuzzer(std::uint32_t seed) : rng_(seed) {}

  std::size_t below(std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_);
  }
  bool chance(int percent) { return below(100) < static_cast<std::size_t>(percent); }

  std::string random_bytes(std::size_t max_len) {
    std::string s(below(max_len + 1), '\0');
    for (char& c : s) c = static_cast<char>(below(256));
    return s;
  }

  std::string random_text(std::size_t max_len) {
    static const std::string kAlphabet =
        "abcdefghijklmnopqrstuvwxyz_ABCZ0123456789 .,()[]'\"\\+-*/%<>=!&|#\n\tTdhmsw:é€";
    std::string s;
    std::size_t len = below(max_len + 1);
    for (std::size_t i = 0; i < len; ++i) s += kAlphabet[below(kAlphabet.size())];
    return s;
  }

  std::string token_soup(std::size_t max_tokens) {
    static const std::vector<std::string> kTokens = {"amount",
                                                     "data.amount",
                                                     "region",
                                                     "count",
                                                     "rate",
                                                     "approved",
                                                     "priority",
                                                     "signed_on",
                                                     "due",
                                                     "sla",
                                                     "note",
                                                     "event.reason",
                                                     "event.discount",
                                                     "event.channel",
                                                     "data.",
                                                     "event.",
                                                     "(",
                                                     ")",
                                                     "[",
                                                     "]",
                                                     ",",
                                                     "and",
                                                     "or",
                                                     "not",
                                                     "in",
                                                     "==",
                                                     "!=",
                                                     "<",
                                                     "<=",
                                                     ">",
                                                     ">=",
                                                     "+",
                                                     "-",
                                                     "*",
                                                     "/",
                                                     "%",
                                                     "0",
                                                     "1",
                                                     "7",
                                                     "12.5",
                                                     "0.000001",
                                                     "9223372036854775807",
                                                     "'P1'",
                                                     "'EMEA'",
                                                     "\"x\"",
                                                     "'web'",
                                                     "2026-03-01",
                                                     "9999-12-31",
                                                     "0000-01-01",
                                                     "2026-03-01T09:00:00Z",
                                                     "2026-03-01T09:00:00+01:00",
                                                     "4h",
                                                     "1d",
                                                     "2w",
                                                     "250ms",
                                                     "null",
                                                     "true",
                                                     "false",
                                                     "len(",
                                                     "lower(",
                                                     "upper(",
                                                     "min(",
                                                     "max(",
                                                     "abs(",
                                                     "is_set(",
                                                     "now()",
                                                     "nope",
                                                     "'unterminated",
                                                     "."};
    std::string s;
    std::size_t n = 1 + below(max_tokens);
    for (std::size_t i = 0; i < n; ++i) {
      s += kTokens[below(kTokens.size())];
      s += chance(80) ? " " : "";
    }
    return s;
  }

  std::string mutate(std::string s) {
    std::size_t edits = 1 + below(3);
    for (std::size_t i = 0; i < edits; ++i) {
      std::size_t at = s.empty() ? 0 : below(s.size());
      switch (below(3)) {
        case 0:
          if (!s.empty()) s.erase(at, 1);
          break;
        case 1:
          s.insert(at, 1, static_cast<char>(below(128)));
          break;
        default:
          if (!s.empty()) s[at] = static_cast<char>(below(128));
      }
    }
    return s;
  }

  std::int64_t extreme_or(std::int64_t typical) {
    switch (below(8)) {
      case 0:
        return kMax;
      case 1:
        return kMin;
      case 2:
        return 0;
      case 3:
        return -1;
      default:
        return typical;
    }
  }

  Value random_value(const ScopeField& f) {
    if (chance(20)) return Value::null();
    std::int64_t small = static_cast<std::int64_t>(below(2'000'001)) - 1'000'000;
    switch (f.type) {
      case Type::kBool:
        return Value::boolean(chance(50));
      case Type::kInt:
        return Value::integer(extreme_or(small));
      case Type::kDecimal:
        return Value::decimal_units(extreme_or(small * 1'000));
      case Type::kMoney:
        return Value::money_units(extreme_or(small * 1'000'000));
      case Type::kString: {
        static const std::vector<std::string> kStrings = {"",     "EMEA",  "APAC", "P1",
                                                          "x\"y", "naïve", "x"};
        return Value::string(kStrings[below(kStrings.size())]);
      }
      case Type::kEnum:
        return Value::enum_member(f.enum_values[below(f.enum_values.size())]);
      case Type::kDate:
        return Value::date(kMinDateDays +
                           static_cast<std::int64_t>(below(kMaxDateDays - kMinDateDays + 1)));
      case Type::kDateTime:
        return Value::datetime(static_cast<std::int64_t>(below(4'000'000'000'000)) -
                               1'000'000'000'000);
      case Type::kDuration:
        return Value::duration(extreme_or(small * 60'000));
      case Type::kNull:
        return Value::null();
    }
    return Value::null();
  }

  Inputs random_inputs(const Scope& scope) {
    Inputs in;
    for (std::size_t i = 0; i < scope.data.size(); ++i) in.data[i] = random_value(scope.data[i]);
    for (std::size_t i = 0; i < scope.event.size(); ++i) in.event[i] = random_value(scope.event[i]);
    if (chance(10)) in.event.clear();  // a command that sent no payload
    in.now_ms = static_cast<std::int64_t>(below(4'000'000'000'000));
    return in;
  }

 private:
  std::mt19937 rng_;
};

// Builds random well-typed expressions of a requested type from the rules of the language, so that
// every one must compile: a disagreement between this generator and the checker is a bug in one.
class TypedGenerator {
 public:
  explicit TypedGenerator(Fuzzer& f) : f_(f) {}

  std::string of(Type t, int depth) {
    if (depth <= 0 || f_.chance(25)) return leaf(t);
    const int d = depth - 1;
    // Choose first, then build only the chosen form: building every alternative would be
    // exponential in the depth.
    switch (t) {
      case Type::kBool:
        return boolean(d);
      case Type::kInt:
        switch (f_.below(5)) {
          case 0:
            return binary(Type::kInt, {"+", "-", "*", "/", "%"}, Type::kInt, d);
          case 1:
            return "-" + of(Type::kInt, d);
          case 2:
            return "len(" + of(Type::kString, d) + ")";
          case 3:
            return "abs(" + of(Type::kInt, d) + ")";
          default:
            return call2(Type::kInt, Type::kInt, d);
        }
      case Type::kDecimal:
      case Type::kMoney: {
        Type other = t == Type::kMoney ? pick_type({Type::kInt, Type::kDecimal, Type::kMoney})
                                       : pick_type({Type::kInt, Type::kDecimal});
        switch (f_.below(4)) {
          case 0:
            return f_.chance(50) ? binary(t, {"+", "-", "*", "/"}, other, d)
                                 : binary(other, {"+", "-", "*", "/"}, t, d);
          case 1:
            return "abs(" + of(t, d) + ")";
          case 2:
            return call2(t, other, d);
          default:
            return t == Type::kDecimal ? binary(Type::kDuration, {"/"}, Type::kDuration, d)
                                       : "-" + of(t, d);
        }
      }
      case Type::kString:
        switch (f_.below(3)) {
          case 0:
            return "lower(" + of(Type::kString, d) + ")";
          case 1:
            return "upper(" + of(Type::kString, d) + ")";
          default:
            return call2(Type::kString, Type::kString, d);
        }
      case Type::kDate:
        return "(" + of(Type::kDate, d) + " " + pick({"+", "-"}) + " " +
               pick({"1d", "2w", "-3d", "0s"}) + ")";
      case Type::kDateTime:
        switch (f_.below(3)) {
          case 0:
            return binary(Type::kDateTime, {"+", "-"}, Type::kDuration, d);
          case 1:
            return binary(Type::kDuration, {"+"}, Type::kDateTime, d);
          default:
            return call2(Type::kDateTime, Type::kDateTime, d);
        }
      case Type::kDuration:
        switch (f_.below(6)) {
          case 0:
            return binary(Type::kDuration, {"+", "-"}, Type::kDuration, d);
          case 1:
            return binary(Type::kDateTime, {"-"}, Type::kDateTime, d);
          case 2:
            return binary(Type::kDate, {"-"}, Type::kDate, d);
          case 3:
            return binary(Type::kDuration, {"*", "/"}, pick_type({Type::kInt, Type::kDecimal}), d);
          case 4:
            return "-" + of(Type::kDuration, d);
          default:
            return "abs(" + of(Type::kDuration, d) + ")";
        }
      default:
        return leaf(t);
    }
  }

 private:
  std::string pick(std::initializer_list<std::string> options) {
    return *(options.begin() + f_.below(options.size()));
  }
  Type pick_type(std::initializer_list<Type> options) {
    return *(options.begin() + f_.below(options.size()));
  }

  std::string binary(Type l, std::initializer_list<std::string> ops, Type r, int d) {
    std::string lhs = of(l, d);
    std::string op = pick(ops);
    return "(" + lhs + " " + op + " " + of(r, d) + ")";
  }
  std::string call2(Type a, Type b, int d) {
    std::string name = pick({"min(", "max("});
    std::string first = of(a, d);
    return name + first + ", " + of(b, d) + ")";
  }

  std::string boolean(int d) {
    Type t = pick_type({Type::kInt, Type::kDecimal, Type::kMoney, Type::kString, Type::kDate,
                        Type::kDateTime, Type::kDuration});
    Type u = is_numeric(t) ? pick_type({Type::kInt, Type::kDecimal, Type::kMoney}) : t;
    switch (f_.below(7)) {
      case 0:
        return binary(t, {"==", "!=", "<", "<=", ">", ">="}, u, d);
      case 1:
        return binary(Type::kBool, {"and", "or"}, Type::kBool, d);
      case 2:
        return "not " + of(Type::kBool, d);
      case 3: {
        std::string lhs = of(t, d);
        std::string op = pick({" in [", " not in ["});
        std::string first = leaf_constant(u);
        return lhs + op + first + ", " + leaf_constant(u) + "]";
      }
      case 4:
        return pick({"priority in ['P1', 'P3']", "event.channel == 'web'", "priority != null"});
      case 5: {
        std::string lhs = of(t, d);
        return "(" + lhs + pick({" == null", " != null"}) + ")";
      }
      default:
        return pick({"is_set(amount)", "is_set(event.reason)", "approved", "(approved == true)"});
    }
  }

  std::string leaf(Type t) {
    if (f_.chance(40)) return leaf_constant(t);
    switch (t) {
      case Type::kBool:
        return pick({"approved", "true", "false"});
      case Type::kInt:
        return "count";
      case Type::kDecimal:
        return pick({"rate", "event.discount"});
      case Type::kMoney:
        return "amount";
      case Type::kString:
        return pick({"region", "note", "event.reason"});
      case Type::kDate:
        return "signed_on";
      case Type::kDateTime:
        return pick({"due", "now()"});
      case Type::kDuration:
        return "sla";
      default:
        return "null";
    }
  }

  std::string leaf_constant(Type t) {
    switch (t) {
      case Type::kBool:
        return pick({"true", "false"});
      case Type::kInt:
        return pick({"0", "1", "7", "-3", "9223372036854775807", "1000000"});
      case Type::kDecimal:
        return pick({"0.5", "12.5", "0.000001", "-2.25", "1.0"});
      case Type::kMoney:
        return pick({"100000", "0.01", "99999.99"});  // numbers promote to money
      case Type::kString:
        return pick({"'EMEA'", "\"APAC\"", "''", "'x\\'y'"});
      case Type::kDate:
        return pick({"2026-03-01", "0000-01-01", "9999-12-31", "2024-02-29"});
      case Type::kDateTime:
        return pick(
            {"2026-03-01T09:00:00Z", "2026-03-01T09:00:00.5+05:30", "1970-01-01T00:00:00Z"});
      case Type::kDuration:
        return pick({"4h30m", "1d", "250ms", "2w", "0s"});
      default:
        return "null";
    }
  }

  Fuzzer& f_;
};

struct Tally {
  int compiled = 0;
  int refused = 0;
  int evaluated = 0;
};

void well_formed(const Error& e, ErrorCode code) {
  CHECK(e.code == code);
  CHECK_FALSE(e.message.empty());
  CHECK_NOTHROW(e.to_json().dump());  // throws on invalid UTF-8
  if (code == ErrorCode::kInvalidDefinition) {
    REQUIRE(e.location);
    CHECK(e.location->line >= 1);
    CHECK(e.location->column >= 1);
  }
}

void exercise(const std::string& src, Fuzzer& fuzz, Tally& tally,
              std::optional<Expression>& previous) {
  const Scope scope = ltc_scope();
  auto e = Expression::compile(src, scope);
  if (!e) {
    ++tally.refused;
    well_formed(e.error(), ErrorCode::kInvalidDefinition);
    return;
  }
  ++tally.compiled;
  for (int round = 0; round < 4; ++round) {
    Inputs in = fuzz.random_inputs(scope);
    auto v = e->evaluate(in.view());
    if (!v) {
      well_formed(v.error(), ErrorCode::kEvaluation);
      continue;
    }
    ++tally.evaluated;
    if (!v->is_null() && v->type() != e->type()) {
      INFO(src << " gave " << type_name(v->type()) << " for static type " << type_name(e->type()));
      CHECK(v->type() == e->type());
    }
    CHECK_NOTHROW(v->to_json().dump());
    if (e->type() == Type::kBool) {
      auto t = e->test(in.view());
      REQUIRE(t);
      CHECK(*t == (v->type() == Type::kBool && v->as_bool()));
    }
  }
  if (previous) {
    // Whatever the verdict, the proof must terminate and agree both ways round.
    CHECK(are_exclusive(*e, *previous) == are_exclusive(*previous, *e));
  }
  previous = *e;
}

}  // namespace

TEST_CASE("random bytes never crash the compiler", "[expr][fuzz]") {
  Fuzzer fuzz(20260301);
  Tally tally;
  std::optional<Expression> previous;
  for (int i = 0; i < 4000; ++i) exercise(fuzz.random_bytes(64), fuzz, tally, previous);
  for (int i = 0; i < 4000; ++i) exercise(fuzz.random_text(48), fuzz, tally, previous);
  CHECK(tally.refused > 0);
}

TEST_CASE("token soups compile or fail cleanly, and what compiles evaluates to its type",
          "[expr][fuzz]") {
  Fuzzer fuzz(42);
  Tally tally;
  std::optional<Expression> previous;
  for (int i = 0; i < 12000; ++i)
    exercise(fuzz.token_soup(i % 3 == 0 ? 30 : 9), fuzz, tally, previous);
  INFO("compiled " << tally.compiled << ", refused " << tally.refused);
  CHECK(tally.compiled >
        300);  // the soup must reach the checker and evaluator, not just the parser
  CHECK(tally.evaluated > 600);
}

TEST_CASE("mutated guards compile or fail cleanly", "[expr][fuzz]") {
  const std::vector<std::string> guards = {
      "data.amount >= 100000 and region in ['APAC', 'EMEA']",
      "not is_set(event.reason) or len(event.reason) > 3",
      "now() - due > 4h and priority in ['P1', 'P2']",
      "signed_on + 30d < 2026-12-31 and abs(rate - 0.5) <= 0.25",
      "min(amount, 100) * 2 != max(count, 3) / 2 or lower(note) == \"x\\\"y\"",
      "event.channel == 'web' and event.discount < 0.2 and sla / 2h >= 1.5",
  };
  Fuzzer fuzz(7);
  Tally tally;
  std::optional<Expression> previous;
  for (int i = 0; i < 6000; ++i)
    exercise(fuzz.mutate(guards[static_cast<std::size_t>(i) % guards.size()]), fuzz, tally,
             previous);
  CHECK(tally.compiled > 0);
  CHECK(tally.refused > 0);
}

TEST_CASE("random well-typed expressions compile and evaluate to their static type",
          "[expr][fuzz]") {
  Fuzzer fuzz(1234);
  TypedGenerator gen(fuzz);
  Tally tally;
  std::optional<Expression> previous;
  const std::vector<Type> types = {Type::kBool,   Type::kInt,  Type::kDecimal,  Type::kMoney,
                                   Type::kString, Type::kDate, Type::kDateTime, Type::kDuration};
  for (int i = 0; i < 6000; ++i) {
    std::string src = gen.of(types[static_cast<std::size_t>(i) % types.size()], 1 + i % 6);
    auto e = Expression::compile(src, ltc_scope());
    INFO(src);
    if (!e) INFO(e.error().to_string());
    // Constants may fold into a load-time error (overflow, a date out of range): those are refusals
    // with a reason, not disagreements about types.
    if (!e) {
      const std::string& m = e.error().message;
      CHECK((m == "arithmetic overflow" || m == "division by zero" ||
             m.find("out of range") != std::string::npos ||
             m.find("too large") != std::string::npos ||
             m.starts_with("date arithmetic needs whole days")));
      continue;
    }
    exercise(src, fuzz, tally, previous);
  }
  CHECK(tally.compiled > 4000);
}
