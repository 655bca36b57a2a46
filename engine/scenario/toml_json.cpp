#include "scenario/toml_json.h"

#include <fmt/format.h>

namespace flowgate::scenario {
namespace {

std::string date_text(const toml::date& d) {
  return fmt::format("{:04}-{:02}-{:02}", d.year, d.month, d.day);
}

std::string time_text(const toml::time& t) {
  std::string out = fmt::format("{:02}:{:02}:{:02}", t.hour, t.minute, t.second);
  if (t.nanosecond != 0) out += fmt::format(".{:03}", t.nanosecond / 1'000'000);
  return out;
}

}  // namespace

nlohmann::json toml_to_json(const toml::node& node) {
  using nlohmann::json;
  switch (node.type()) {
    case toml::node_type::string:
      return *node.value<std::string>();
    case toml::node_type::integer:
      return *node.value<std::int64_t>();
    case toml::node_type::floating_point:
      return *node.value<double>();
    case toml::node_type::boolean:
      return *node.value<bool>();
    case toml::node_type::date:
      return date_text(*node.value<toml::date>());
    case toml::node_type::time:
      return time_text(*node.value<toml::time>());
    case toml::node_type::date_time: {
      auto dt = *node.value<toml::date_time>();
      std::string out = date_text(dt.date) + "T" + time_text(dt.time);
      if (dt.offset) {
        int minutes = dt.offset->minutes;
        if (minutes == 0) {
          out += "Z";
        } else {
          out += fmt::format("{}{:02}:{:02}", minutes < 0 ? '-' : '+', std::abs(minutes) / 60,
                             std::abs(minutes) % 60);
        }
      }
      return out;
    }
    case toml::node_type::array: {
      json out = json::array();
      for (const auto& item : *node.as_array()) out.push_back(toml_to_json(item));
      return out;
    }
    case toml::node_type::table: {
      json out = json::object();
      for (const auto& [k, v] : *node.as_table()) out[std::string(k.str())] = toml_to_json(v);
      return out;
    }
    default:
      return nullptr;
  }
}

}  // namespace flowgate::scenario
