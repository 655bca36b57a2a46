// An example third-party plugin, built as a shared object and loaded with load_shared_plugin().
// It claims a [stamp] section (`label = "..."`), records a "stamp.noted" event after every
// transition, counts them in the instance's state, and shows the count in the instance view.
//
//   [stamp]
//   label = "audited by the quality team"
#include <toml++/toml.h>

#include "plugin/plugin.h"

namespace {

using flowgate::Diagnostics;
using flowgate::Event;
using flowgate::HookContext;
using flowgate::InstanceState;
using flowgate::Result;
using flowgate::Workflow;
using nlohmann::json;

struct StampConfig {
  std::string label;
};

class StampSections final : public flowgate::SectionHandler {
 public:
  std::string name() const override { return "stamp"; }
  std::vector<std::string> sections() const override { return {"stamp"}; }
  std::shared_ptr<const void> compile(const toml::table& root, const Workflow&,
                                      const std::string& file, Diagnostics& diags) const override {
    const toml::node* node = root.get("stamp");
    if (node == nullptr) return nullptr;
    auto where = [&](const toml::node& n) {
      return flowgate::SourceLocation{file, static_cast<int>(n.source().begin.line),
                                      static_cast<int>(n.source().begin.column)};
    };
    const toml::table* table = node->as_table();
    if (table == nullptr) {
      diags.error("STAMP-SECTION", where(*node), "[stamp] must be a table");
      return nullptr;
    }
    auto config = std::make_shared<StampConfig>();
    for (const auto& [key, value] : *table) {
      if (key.str() == "label" && value.is_string()) {
        config->label = *value.value<std::string>();
      } else {
        diags.error("STAMP-KEY", where(value),
                    "[stamp] takes only `label`, a string; found `" + std::string(key.str()) + "`");
      }
    }
    return config;
  }
};

class StampHooks final : public flowgate::InstanceHooks {
 public:
  std::string name() const override { return "stamp"; }
  Result<std::vector<Event>> after_events(const HookContext& ctx, const InstanceState&,
                                          const InstanceState& after,
                                          std::span<const Event> events) const override {
    const auto* config = ctx.workflow.extension<StampConfig>("stamp");
    std::vector<Event> out;
    for (const auto& e : events) {
      if (e.type == "transitioned") {
        out.push_back(
            {"stamp.noted",
             {{"label", config ? config->label : std::string()}, {"state", after.state}}});
      }
    }
    return out;
  }
  Result<void> apply(InstanceState& s, const Event& e, const Workflow&,
                     std::int64_t) const override {
    if (e.type == "stamp.noted") {
      json& st = s.extra["stamp"];
      int count = st.is_object() ? st.value("count", 0) : 0;
      st["count"] = count + 1;
      st["label"] = e.body.value("label", std::string());
    }
    return {};
  }
  void describe(const Workflow&, const InstanceState& s, json& view) const override {
    if (s.extra.contains("stamp")) view["stamp"] = s.extra["stamp"];
  }
};

flowgate::Plugin* create() {
  return new flowgate::Plugin{"stamp", std::make_shared<StampSections>(),
                              std::make_shared<StampHooks>()};
}
void destroy(flowgate::Plugin* p) { delete p; }

const FlowgatePluginEntry kEntry = {kFlowgatePluginApiVersion, "stamp", &create, &destroy};

}  // namespace

extern "C" const FlowgatePluginEntry* flowgate_plugin_entry(void) { return &kEntry; }
