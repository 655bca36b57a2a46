// Evaluating a compiled guard allocates nothing in the common cases (numbers, money, time, bools,
// text equality, `in` lists, field references). Counted by replacing the global operator new for
// this test executable; the counter only observes, allocation itself is unchanged.
#include <atomic>
#include <cstdlib>
#include <functional>
#include <new>

#include "expr_test_support.h"

namespace {
std::atomic<long> g_allocations{0};
}  // namespace

// GCC sees malloc in the replacement operator new and free in operator delete inlined into one
// function and warns of a mismatch; here they are the matching pair by construction.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

// The whole non-aligned family is replaced, so that every allocation is paired with its own
// deallocation (a sanitizer runtime otherwise supplies the variants left out, and reports a
// mismatch).
namespace {
void* counted_malloc(std::size_t size) noexcept {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(size == 0 ? 1 : size);
}
void* counted_or_throw(std::size_t size) {
  if (void* p = counted_malloc(size)) return p;
  throw std::bad_alloc();
}
}  // namespace

void* operator new(std::size_t size) { return counted_or_throw(size); }
void* operator new[](std::size_t size) { return counted_or_throw(size); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  return counted_malloc(size);
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  return counted_malloc(size);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

using namespace flowgate;
using namespace flowgate::test;

namespace {
long allocations_during(const std::function<void()>& work) {
  long before = g_allocations.load();
  work();
  return g_allocations.load() - before;
}
}  // namespace

TEST_CASE("evaluating common guards allocates nothing", "[expr][alloc]") {
  Inputs in;
  in.data[0] = money("250000");
  in.data[1] = Value::string("a region name longer than the small-string buffer");
  in.data[2] = Value::integer(12);
  in.data[5] = Value::enum_member("P2");
  in.data[6] = date("2026-03-01");
  in.data[7] = datetime("2026-03-01T09:00:00Z");
  in.data[8] = dur("4h");
  in.event[1] = dec("0.15");
  in.now_ms = *parse_datetime_ms("2026-03-02T09:00:00Z");
  const EvalInput view = in.view();
  for (const char* src : {
           "data.amount >= 100000 and data.region in ['APAC', 'EMEA']",
           "priority == 'P1' or (count > 10 and not is_set(event.discount))",
           "now() - due > sla and signed_on + 30d >= 2026-03-15",
           "amount * (1 - event.discount) > 50000.50 and count % 5 == 2",
           "region != 'x' and len(region) > 3 and min(count, 3) == max(1, 3)",
           "abs(-rate) == null or amount / count > 10",
       }) {
    auto e = compiled(src);
    INFO(src);
    CHECK(allocations_during([&] {
            for (int i = 0; i < 100; ++i) CHECK(e.test(view));
          }) == 0);
  }
}

TEST_CASE("evaluating to a number or time allocates nothing", "[expr][alloc]") {
  Inputs in;
  in.data[0] = money("100");
  in.data[7] = datetime("2026-03-01T09:00:00Z");
  auto e = compiled("amount * 3 / 2");
  auto t = compiled("due + 4h30m");
  const EvalInput view = in.view();
  CHECK(allocations_during([&] {
          for (int i = 0; i < 100; ++i) {
            CHECK(e.evaluate(view));
            CHECK(t.evaluate(view));
          }
        }) == 0);
}

TEST_CASE("the allocation counter sees allocations", "[expr][alloc]") {
  // Guards the two tests above against a counter that never counts.
  Inputs in;
  in.data[9] = Value::string("A note long enough to need the heap when lowered");
  auto e = compiled("lower(note)");
  CHECK(allocations_during([&] { CHECK(e.evaluate(in.view())); }) > 0);
}
