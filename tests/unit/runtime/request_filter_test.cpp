#include <catch2/catch.hpp>

#include <string>

#include "runtime/request_filter.h"

using flowgate::RequestIdFilter;

TEST_CASE("the request-id filter holds every id added and few others", "[request_filter]") {
  RequestIdFilter f(1024);  // small first layer: the ids below fill nine layers
  CHECK_FALSE(f.may_contain("req-1"));
  CHECK_FALSE(f.may_contain(""));
  const std::size_t empty_bytes = f.memory_bytes();
  CHECK(empty_bytes == 1024 * 16 / 8);

  constexpr int kAdded = 300000;
  for (int i = 0; i < kAdded; ++i) f.add("req-" + std::to_string(i));
  CHECK(f.size() == kAdded);
  CHECK(f.layers() == 9);  // 1,024 · 2,048 · ... · 262,144 ids
  CHECK(f.memory_bytes() == empty_bytes * 511);

  int missing = 0;
  for (int i = 0; i < kAdded; ++i) missing += f.may_contain("req-" + std::to_string(i)) ? 0 : 1;
  CHECK(missing == 0);

  // Ids never added: each full layer answers "maybe" for about 0.06% of them.
  int false_positives = 0;
  constexpr int kOthers = 200000;
  for (int i = 0; i < kOthers; ++i) {
    false_positives += f.may_contain("other-" + std::to_string(i)) ? 1 : 0;
  }
  INFO(false_positives << " of " << kOthers);
  CHECK(false_positives < kOthers / 100);
}

TEST_CASE("the request-id filter keeps ids that differ in one byte apart", "[request_filter]") {
  RequestIdFilter f;
  std::string id(64, 'a');
  f.add(id);
  CHECK(f.may_contain(id));
  int hits = 0;
  for (std::size_t i = 0; i < id.size(); ++i) {
    std::string other = id;
    other[i] = 'b';
    hits += f.may_contain(other) ? 1 : 0;
  }
  CHECK(hits == 0);
  CHECK_FALSE(f.may_contain(id.substr(0, 63)));
  CHECK_FALSE(f.may_contain(id + "a"));

  // Any bytes, any length: a 1 MiB id with NUL and high bytes, and the empty id.
  std::string huge(1 << 20, '\0');
  for (std::size_t i = 0; i < huge.size(); ++i) huge[i] = static_cast<char>(i * 131 + 7);
  f.add(huge);
  f.add("");
  CHECK(f.may_contain(huge));
  CHECK(f.may_contain(""));
  huge.back() ^= 1;
  CHECK_FALSE(f.may_contain(huge));
  CHECK(f.size() == 3);
}
