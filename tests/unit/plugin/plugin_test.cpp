// Loading plugins as shared objects: the example plugin end to end through the engine, and each
// way a plugin can fail to load.
#include <catch2/catch.hpp>

#include <filesystem>

#include "definition/loader.h"
#include "plugin/plugin.h"
#include "runtime/engine.h"
#include "support/temp_dir.h"

using namespace flowgate;
using nlohmann::json;

namespace {

const char* kStampedWorkflow = R"(
[workflow]
id = "stamped"
name = "Stamped"
version = 1
initial = "open"

[stamp]
label = "checked by quality"

[states.open]
[states.done]
terminal = true

[[transitions]]
from = "open"
to = "done"
event = "finish"
)";

}  // namespace

TEST_CASE("the example plugin loads as a shared object and takes part in every step", "[plugin]") {
  auto plugin = load_shared_plugin(STAMP_PLUGIN);
  REQUIRE(plugin);
  CHECK(plugin->name == "stamp");
  PluginRegistry registry;
  REQUIRE(registry.add(*plugin));

  LoadResult wf = load_workflow_text(kStampedWorkflow, "stamped.toml", registry.sections());
  for (const auto& d : wf.diagnostics.items()) UNSCOPED_INFO(d.to_string());
  REQUIRE(wf.ok());

  flowgate::testing::TempDir dir;
  auto catalog = std::make_shared<Catalog>();
  catalog->add(wf.workflow);
  EngineOptions o;
  o.db_path = dir.file("p.db");
  o.hooks = registry.hooks();
  auto engine = Engine::open(o, catalog, std::make_shared<SimulatedClock>(0), registry.sections());
  REQUIRE(engine);
  Command start;
  start.kind = CommandKind::kStart;
  start.workflow_id = "stamped";
  auto started = (*engine)->execute(start);
  REQUIRE(started);
  Command finish;
  finish.kind = CommandKind::kFire;
  finish.instance_id = started->instance["instance_id"];
  finish.event = "finish";
  auto done = (*engine)->execute(finish);
  REQUIRE(done);
  CHECK(done->instance["stamp"]["count"] == 1);
  CHECK(done->instance["stamp"]["label"] == "checked by quality");
  auto history = (*engine)->history(finish.instance_id);
  REQUIRE(history);
  REQUIRE(history->size() == 4);  // started, transitioned, completed, stamp.noted
  CHECK(history->back().type == "stamp.noted");
}

TEST_CASE("a plugin section with errors is reported with file and line", "[plugin]") {
  PluginRegistry registry;
  REQUIRE(registry.add(*load_shared_plugin(STAMP_PLUGIN)));
  std::string text = kStampedWorkflow;
  text.replace(text.find("label"), 5, "lable");
  LoadResult wf = load_workflow_text(text, "stamped.toml", registry.sections());
  REQUIRE_FALSE(wf.ok());
  bool found = false;
  for (const auto& d : wf.diagnostics.items()) {
    if (d.rule == "STAMP-KEY" && d.location.line == 9) found = true;
  }
  CHECK(found);
}

TEST_CASE("without the plugin its section is unclaimed", "[plugin]") {
  SectionRegistry none;
  LoadResult wf = load_workflow_text(kStampedWorkflow, "stamped.toml", none);
  CHECK_FALSE(wf.ok());
}

TEST_CASE("a plugin built for another API version is refused clearly", "[plugin]") {
  auto p = load_shared_plugin(BAD_PLUGIN_WRONG_VERSION);
  REQUIRE_FALSE(p);
  CHECK_THAT(p.error().message, Catch::Contains("API version 99"));
}

TEST_CASE("a shared object without the entry point is refused clearly", "[plugin]") {
  auto p = load_shared_plugin(BAD_PLUGIN_NO_ENTRY);
  REQUIRE_FALSE(p);
  CHECK_THAT(p.error().message, Catch::Contains("no entry point"));
}

TEST_CASE("a plugin that crashes while loading is reported, and the caller survives", "[plugin]") {
  auto p = load_shared_plugin(BAD_PLUGIN_CRASH_ON_LOAD);
  REQUIRE_FALSE(p);
  CHECK_THAT(p.error().message, Catch::Contains("crashed while loading"));
}

TEST_CASE("a plugin whose create() fails, or a missing file, is refused", "[plugin]") {
  CHECK_FALSE(load_shared_plugin(BAD_PLUGIN_NULL_CREATE));
  CHECK_FALSE(load_shared_plugin("/nonexistent/plugin.so"));
}

TEST_CASE("a plugin directory loads good plugins and skips broken ones only if optional",
          "[plugin]") {
  flowgate::testing::TempDir dir;
  namespace fs = std::filesystem;
  fs::copy_file(STAMP_PLUGIN, dir.file("stamp.so"));
  fs::copy_file(BAD_PLUGIN_WRONG_VERSION, dir.file("wrong_version.so"));
  {
    PluginRegistry registry;
    auto r = load_plugin_dir(dir.path().string(), {}, registry);
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().message, Catch::Contains("API version"));
  }
  PluginRegistry registry;
  auto r = load_plugin_dir(dir.path().string(), {"wrong_version"}, registry);
  REQUIRE(r);
  REQUIRE(r->size() == 1);
  CHECK_THAT(r->front(), Catch::Contains("optional plugin skipped"));
  CHECK(registry.plugins().size() == 1);
  CHECK(registry.sections().find("stamp") != nullptr);
}

TEST_CASE("two plugins may not claim the same name or section", "[plugin]") {
  PluginRegistry registry;
  auto stamp = load_shared_plugin(STAMP_PLUGIN);
  REQUIRE(registry.add(*stamp));
  CHECK_FALSE(registry.add(*stamp));
}
