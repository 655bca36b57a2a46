// Robustness of the loader: random mutations of valid process files must end in a workflow or in
// diagnostics — never a crash, a hang, an exception or a malformed diagnostic. Deterministic: the
// seed is printed, and FLOWGATE_FUZZ_SEED / FLOWGATE_FUZZ_ITERATIONS reproduce or extend a run.
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

#include "definition/loader.h"
#include "loader_test_support.h"

using namespace flowgate;
using namespace flowgate::test;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> corpus() {
  std::vector<std::string> texts;
  for (const std::string& dir :
       {fixture_path("valid"), std::string(FLOWGATE_SOURCE_DIR) + "/workflows"}) {
    if (!fs::is_directory(dir)) continue;
    std::vector<fs::path> paths;
    for (const auto& entry : fs::directory_iterator(dir)) {
      if (entry.path().extension() == ".toml") paths.push_back(entry.path());
    }
    std::sort(paths.begin(), paths.end());  // directory order is not deterministic
    for (const auto& p : paths) {
      std::ifstream in(p, std::ios::binary);
      texts.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
  }
  return texts;
}

// Fragments that stress the loader where a byte flip rarely reaches: structure, expressions,
// types, nesting and encodings.
const std::vector<std::string> kSnippets = {
    "[states.extra]\n",
    "[states.extra]\nterminal = true\n",
    "[[transitions]]\nfrom = \"*\"\nto = \"extra\"\nevent = \"jump\"\n",
    "[[transitions]]\nfrom = [\"a\", \"a\", \"*\"]\nto = 5\n",
    "guard = \"(((((((((((\"\n",
    "guard = \"amount > 'x' and not\"\n",
    "guard = \"\"\"\nnow() - 2026-01-01T00:00:00Z > 4h30m\n\"\"\"\n",
    "set = { amount = \"event.amount * 2\", missing = true, flag = 2026-01-01 }\n",
    "payload = { a = \"enum(|)\", b = \"money??\", c = 3 }\n",
    "priority = 9223372036854775807\n",
    "from = []\n",
    "terminal = \"maybe\"\n",
    "[data.q]\ntype = \"enum\"\nvalues = [\"a\", \"a\", \"\"]\ndefault = \"b\"\n",
    "[data.r]\ntype = \"string\"\npattern = \"([a-z]+\"\nmin = 5\nmax = 1\n",
    "[data.s]\ntype = \"decimal\"\ndefault = 1e300\nmin = -0.0000001\n",
    "[data.t]\ntype = \"datetime\"\ndefault = 2026-01-01T00:00:00\n",
    "[roles]\nAR = 1\n",
    "[workflow]\n",
    "[transitions]\n",
    "a.b.c.d.e.f.g.h.i.j.k = 1\n",
    "x = [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n",
    "y = { a = { b = { c = { d = 1 } } } }\n",
    "\"quoted key\" = \"\\u00e9\\U0001F600\"\n",
    "[sla.response]\ntarget = \"4h\"\n",
    "gate = \"review\"\n",
    "owner = \"NOBODY\"\n",
    "z = '''\nmulti\n'''\n",
    "\xef\xbb\xbf",
    "\xff\xfe",
    std::string("\0", 1),
    "\r\n",
    "=\n",
    "[\n",
    "]]\n",
};

// Lines with their '\n', as views into `text` (which must outlive them).
std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size() - 1;
    lines.push_back(text.substr(start, end - start + 1));
    start = end + 1;
  }
  return lines;
}

std::string join(const std::vector<std::string_view>& lines) {
  std::size_t size = 0;
  for (auto l : lines) size += l.size();
  std::string out;
  out.reserve(size);
  for (auto l : lines) out += l;
  return out;
}

class Mutator {
 public:
  explicit Mutator(std::uint64_t seed) : rng_(seed) {}

  std::string mutate(std::string text) {
    int rounds = pick(1, 4);
    for (int i = 0; i < rounds; ++i) text = mutate_once(std::move(text));
    return text;
  }

 private:
  int pick(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  std::size_t pos(std::size_t size) {
    return size == 0 ? 0 : std::uniform_int_distribution<std::size_t>(0, size - 1)(rng_);
  }

  std::string mutate_once(std::string text) {
    switch (pick(0, 7)) {
      case 0:  // flip bits of a byte
        if (!text.empty()) text[pos(text.size())] ^= static_cast<char>(1 << pick(0, 7));
        return text;
      case 1:  // replace a byte with an interesting one
        if (!text.empty()) {
          static const char kBytes[] = "\"'[]{}=.,#\\\n*?()\0\x80\xff";
          text[pos(text.size())] = kBytes[pos(sizeof kBytes - 1)];
        }
        return text;
      case 2: {  // delete a range
        std::size_t at = pos(text.size());
        text.erase(at, static_cast<std::size_t>(pick(1, 40)));
        return text;
      }
      case 3: {  // duplicate a line
        auto lines = split_lines(text);
        if (lines.empty()) return text;
        std::size_t i = pos(lines.size());
        lines.insert(lines.begin() + static_cast<std::ptrdiff_t>(pos(lines.size())), lines[i]);
        return join(lines);
      }
      case 4: {  // swap two lines
        auto lines = split_lines(text);
        if (lines.size() < 2) return text;
        std::swap(lines[pos(lines.size())], lines[pos(lines.size())]);
        return join(lines);
      }
      case 5:  // truncate
        text.resize(pos(text.size() + 1));
        return text;
      case 6: {  // insert a snippet at a line boundary
        auto lines = split_lines(text);
        lines.insert(lines.begin() + static_cast<std::ptrdiff_t>(pos(lines.size() + 1)),
                     kSnippets[pos(kSnippets.size())]);
        return join(lines);
      }
      default: {  // insert a snippet anywhere
        text.insert(pos(text.size() + 1), kSnippets[pos(kSnippets.size())]);
        return text;
      }
    }
  }

  std::mt19937_64 rng_;
};

std::uint64_t env_or(const char* name, std::uint64_t fallback) {
  const char* v = std::getenv(name);
  return v ? std::strtoull(v, nullptr, 10) : fallback;
}

}  // namespace

TEST_CASE("random mutations of valid process files never crash the loader", "[loader][fuzz]") {
  const std::uint64_t seed = env_or("FLOWGATE_FUZZ_SEED", 20261122);
  const std::uint64_t iterations = env_or("FLOWGATE_FUZZ_ITERATIONS", 10'000);
  std::printf("loader fuzz: seed %llu, %llu iterations (FLOWGATE_FUZZ_SEED to reproduce)\n",
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(iterations));
  auto texts = corpus();
  REQUIRE(texts.size() >= 4);
  Mutator mutator(seed);
  std::size_t loaded = 0;
  std::size_t refused = 0;
  for (std::uint64_t i = 0; i < iterations; ++i) {
    const std::string& original = texts[i % texts.size()];
    std::string text = mutator.mutate(original);
    LoadResult r = load_workflow_text(text, "fuzz.toml", no_sections());
    // Checked with `if` so that 10,000 iterations do not make 10,000 assertions; a failure shows
    // the iteration and the input that caused it.
    bool consistent =
        r.ok() == !r.diagnostics.has_errors() && (r.ok() || r.diagnostics.error_count() > 0);
    bool well_formed = true;
    for (const Diagnostic& d : r.diagnostics.items()) {
      well_formed &= !d.rule.empty() && !d.message.empty() &&
                     d.message.find('\n') == std::string::npos && d.location.file == "fuzz.toml" &&
                     d.location.line >= 0;
      // Every message must be valid UTF-8 so that JSON output never fails.
      try {
        (void)d.to_json().dump();
      } catch (const std::exception&) {
        well_formed = false;
      }
    }
    if (!consistent || !well_formed) {
      INFO("iteration " << i << ", seed " << seed << "\n--- input ---\n"
                        << text << "\n--- diagnostics ---\n"
                        << listing(r));
      CHECK(consistent);
      CHECK(well_formed);
      break;
    }
    (r.ok() ? loaded : refused) += 1;
  }
  std::printf("loader fuzz: %zu loaded, %zu refused\n", loaded, refused);
  CHECK(loaded + refused == iterations);
  CHECK(refused > 0);
}
