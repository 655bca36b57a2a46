// are_exclusive: what the validator may rely on when two transitions share (state, event,
// priority).
#include "expr_test_support.h"

using namespace flowgate;
using namespace flowgate::test;

namespace {
bool exclusive(const std::string& a, const std::string& b) {
  bool ab = are_exclusive(compiled(a), compiled(b));
  bool ba = are_exclusive(compiled(b), compiled(a));
  INFO(a << "  vs  " << b);
  CHECK(ab == ba);  // symmetric
  return ab;
}
}  // namespace

TEST_CASE("ranges of the same field that do not meet are exclusive", "[expr][exclusive]") {
  CHECK(exclusive("data.amount >= 100000", "data.amount < 100000"));
  CHECK(exclusive("amount > 100000", "amount <= 100000"));
  CHECK(exclusive("100000 <= amount", "amount < 100000"));
  CHECK(exclusive("count >= 3", "count < 2.5"));
  CHECK(exclusive("signed_on < 2026-01-01", "signed_on >= 2026-01-01"));
  CHECK(exclusive("sla > 4h", "sla <= 240m"));
  CHECK(exclusive("due >= 2026-03-01T09:00:00Z", "due < 2026-03-01T10:00:00+01:00"));
}

TEST_CASE("ranges that overlap are not exclusive", "[expr][exclusive]") {
  CHECK_FALSE(exclusive("amount > 100", "amount > 200"));
  CHECK_FALSE(exclusive("count <= 5", "count >= 5"));
  CHECK_FALSE(exclusive("amount >= 100000", "amount < 100000.5"));
}

TEST_CASE("equalities and lists are exclusive when no value is shared", "[expr][exclusive]") {
  CHECK(exclusive("region == 'EMEA'", "region == 'APAC'"));
  CHECK(exclusive("region == 'EMEA'", "region != 'EMEA'"));
  CHECK(exclusive("region in ['APAC', 'EMEA']", "region in ['AMER']"));
  CHECK(exclusive("priority == 'P1'", "priority in ['P2', 'P3']"));
  CHECK(exclusive("count == 1", "count > 1"));
  CHECK(exclusive("count in [1, 2]", "count >= 3"));
  CHECK(exclusive("amount == 5", "amount == 5.5"));
  CHECK_FALSE(exclusive("region in ['APAC', 'EMEA']", "region in ['EMEA', 'AMER']"));
  CHECK_FALSE(exclusive("region != 'EMEA'", "region != 'APAC'"));
  CHECK_FALSE(exclusive("count in [1, 2]", "count >= 2"));
}

TEST_CASE("a condition and its negation are exclusive", "[expr][exclusive]") {
  CHECK(exclusive("approved", "not approved"));
  CHECK(exclusive("approved", "approved == false"));
  CHECK(exclusive("lower(region) == 'emea'", "not (lower(region) == 'emea')"));
  CHECK(exclusive("not (amount > 5)", "amount > 10"));
  CHECK(exclusive("region not in ['EMEA']", "region == 'EMEA'"));
  CHECK(exclusive("approved and count > 1", "not (approved and count > 1)"));
  CHECK(exclusive("approved or region == 'x'", "not (approved or region == 'x')"));
  CHECK_FALSE(exclusive("approved", "approved"));
  CHECK_FALSE(exclusive("not approved", "approved == false"));
}

TEST_CASE("set and unset are exclusive, and an unset field satisfies != and not",
          "[expr][exclusive]") {
  CHECK(exclusive("is_set(amount)", "not is_set(amount)"));
  CHECK(exclusive("amount == null", "amount > 5"));
  CHECK(exclusive("amount == null", "is_set(amount)"));
  CHECK(exclusive("amount != null", "not is_set(amount)"));
  CHECK(exclusive("is_set(event.reason)", "event.reason == null"));
  CHECK_FALSE(exclusive("amount != 5", "amount == null"));
  CHECK_FALSE(exclusive("not (amount > 5)", "not is_set(amount)"));
  CHECK_FALSE(exclusive("amount in [1, null]", "not is_set(amount)"));
}

TEST_CASE("a conjunction is exclusive when any conjunct is", "[expr][exclusive]") {
  CHECK(exclusive("amount > 5 and region == 'EMEA'", "region == 'APAC'"));
  CHECK(exclusive("amount >= 100000 and region in ['APAC', 'EMEA']",
                  "amount < 100000 and region in ['APAC', 'EMEA']"));
  CHECK(exclusive("count > 1 and approved", "count > 2 and not approved"));
  CHECK_FALSE(exclusive("amount > 5 and region == 'EMEA'", "amount > 10"));
}

TEST_CASE("a disjunction is exclusive when every branch is", "[expr][exclusive]") {
  CHECK(exclusive("region == 'A' or region == 'B'", "region == 'C'"));
  CHECK(exclusive("count < 0 or count > 10", "count >= 0 and count <= 10"));
  CHECK_FALSE(exclusive("region == 'A' or region == 'B'", "region == 'B'"));
  CHECK_FALSE(exclusive("region == 'A' or approved", "region == 'B'"));
}

TEST_CASE("a guard that can never be true is exclusive with anything", "[expr][exclusive]") {
  CHECK(exclusive("false", "approved"));
  CHECK(exclusive("1 > 2", "true"));
  CHECK(exclusive("null == 1", "amount > 0"));
  CHECK(exclusive("count in []", "count > 0"));
}

TEST_CASE("unrelated fields and unmodelled conditions are not proven exclusive",
          "[expr][exclusive]") {
  CHECK_FALSE(exclusive("amount > 5", "count < 5"));
  CHECK_FALSE(exclusive("true", "true"));
  CHECK_FALSE(exclusive("region < 'm'", "region > 'n'"));  // text order is not modelled
  CHECK_FALSE(exclusive("amount + 1 > 5", "amount + 1 < 5"));
  CHECK_FALSE(exclusive("data.count > 1", "event.discount < 1"));
  Expression always;
  CHECK_FALSE(are_exclusive(always, compiled("approved")));
}

TEST_CASE("event fields match by name across transitions with different payloads",
          "[expr][exclusive]") {
  Scope a;
  a.event = {{"reason", Type::kString, {}}};
  Scope b;
  b.event = {{"code", Type::kInt, {}}, {"reason", Type::kString, {}}};
  CHECK(are_exclusive(compiled("event.reason == 'x'", a), compiled("event.reason == 'y'", b)));
  CHECK_FALSE(
      are_exclusive(compiled("event.reason == 'x'", a), compiled("event.reason == 'x'", b)));
  Scope c;
  c.event = {{"reason", Type::kInt, {}}};  // same name, another type: not comparable
  CHECK_FALSE(are_exclusive(compiled("event.reason == 'x'", a), compiled("event.reason == 1", c)));
}

TEST_CASE("hostile guards cannot make the proof take exponential time", "[expr][exclusive]") {
  // Alternating and/or nesting 40 deep on unrelated fields: nothing can be proven, and without a
  // step budget the search would double at every `and` level.
  auto nest = [](const std::string& field) {
    std::string g = field + " == 1";
    for (int i = 0; i < 40; ++i) {
      g = "(" + g +
          (i % 2 ? " and " + field + " > -1" : " or " + field + " == " + std::to_string(i + 2)) +
          ")";
    }
    return g;
  };
  CHECK_FALSE(are_exclusive(compiled(nest("count")), compiled(nest("rate"))));
}
