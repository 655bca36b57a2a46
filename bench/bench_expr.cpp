// bench_expr: how fast compiled guards and assignments evaluate, and how fast they compile.
// Prints one line per expression: nanoseconds per evaluation (best of R runs of N evaluations)
// and microseconds per compile. Inputs vary between evaluations so that branches are realistic.
// Times are the thread's CPU time, so that other processes on a busy machine do not inflate them.
//
//   bench_expr [--iterations N] [--runs R] [--case K]   (K: run only the K-th expression, from 0)
//   bench_expr --smoke        (tiny size: what CI runs)
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "definition/expr.h"

namespace {

using flowgate::EvalInput;
using flowgate::Expression;
using flowgate::Scope;
using flowgate::Type;
using flowgate::Value;

struct Options {
  long iterations = 2'000'000;
  int runs = 5;
  int only = -1;  // -1: every case
};

Scope ltc_scope() {
  Scope s;
  s.data = {{"amount", Type::kMoney, {}},  {"region", Type::kString, {}},
            {"count", Type::kInt, {}},     {"priority", Type::kEnum, {"P1", "P2", "P3"}},
            {"due", Type::kDateTime, {}},  {"note", Type::kString, {}},
            {"signed_on", Type::kDate, {}}};
  s.event = {{"discount", Type::kDecimal, {}}};
  return s;
}

// A few rows of instance data to cycle through.
std::vector<std::vector<Value>> sample_rows() {
  const char* regions[] = {"APAC", "EMEA", "AMER", "EMEA"};
  const char* priorities[] = {"P1", "P2", "P3", "P2"};
  std::vector<std::vector<Value>> rows;
  for (int i = 0; i < 64; ++i) {
    rows.push_back(
        {Value::money_units(static_cast<std::int64_t>(i) * 5'000 * flowgate::kDecimalScale),
         Value::string(regions[i % 4]), Value::integer(i), Value::enum_member(priorities[i % 4]),
         Value::datetime(1'772'355'600'000 + static_cast<std::int64_t>(i) * 3'600'000),
         Value::string(i % 2 ? "Customer asked for a call back" : "ok"), Value::date(20'513 + i)});
  }
  return rows;
}

// CPU time of this thread, in nanoseconds.
double cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

double ns_per_eval(const Expression& e, const std::vector<std::vector<Value>>& rows,
                   const std::vector<Value>& event, const Options& opt, long& sink) {
  double best = 1e300;
  for (int r = 0; r < opt.runs; ++r) {
    double start = cpu_ns();
    for (long i = 0; i < opt.iterations; ++i) {
      const auto& row = rows[static_cast<std::size_t>(i) & 63];
      EvalInput in{row, event, 1'772'400'000'000 + i};
      if (e.type() == Type::kBool) {
        auto t = e.test(in);
        sink += t && *t;
      } else {
        auto v = e.evaluate(in);
        sink += v ? v->as_int() & 1 : 0;
      }
    }
    best = std::min(best, (cpu_ns() - start) / static_cast<double>(opt.iterations));
  }
  return best;
}

double us_per_compile(std::string_view src, const Scope& scope, const Options& opt) {
  long n = std::max<long>(1, opt.iterations / 100);
  double start = cpu_ns();
  for (long i = 0; i < n; ++i) {
    if (!Expression::compile(src, scope)) std::abort();
  }
  return (cpu_ns() - start) / 1e3 / static_cast<double>(n);
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--smoke") {
      opt.iterations = 2'000;
      opt.runs = 1;
    } else if (a == "--iterations" && i + 1 < argc) {
      opt.iterations = std::max(1L, std::atol(argv[++i]));
    } else if (a == "--runs" && i + 1 < argc) {
      opt.runs = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--case" && i + 1 < argc) {
      opt.only = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: bench_expr [--iterations N] [--runs R] [--case K] [--smoke]\n");
      return 2;
    }
  }

  const Scope scope = ltc_scope();
  const auto rows = sample_rows();
  const std::vector<Value> event = {Value::decimal_units(150'000)};
  const char* cases[] = {
      "data.amount >= 100000 and data.region in ['APAC', 'EMEA']",
      "priority == 'P1' or (count > 10 and not is_set(event.discount))",
      "now() - due > 4h and signed_on + 30d >= 2026-03-15",
      "amount * (1 - event.discount) > 50000.50",
      "lower(note) != 'ok' and len(note) > 5",
      "min(amount, 250000) / 3",
  };
  long sink = 0;
  fmt::print("bench_expr: {} evaluations x {} runs (best run), 64 rotating rows\n", opt.iterations,
             opt.runs);
  for (int k = 0; k < static_cast<int>(std::size(cases)); ++k) {
    if (opt.only >= 0 && k != opt.only) continue;
    const char* src = cases[k];
    auto e = Expression::compile(src, scope);
    if (!e) {
      fmt::print(stderr, "cannot compile `{}`: {}\n", src, e.error().to_string());
      return 1;
    }
    double ns = ns_per_eval(*e, rows, event, opt, sink);
    double us = us_per_compile(src, scope, opt);
    fmt::print("{:8.1f} ns/eval  {:7.2f} us/compile  {}\n", ns, us, src);
  }
  fmt::print("(checksum {})\n", sink);
  return 0;
}
