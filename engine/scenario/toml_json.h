// TOML values as the JSON the engine takes: dates "YYYY-MM-DD", date-times RFC 3339 (a local
// date-time without offset stays without one, so the engine refuses it), tables as objects.
// Thread-safety: pure function.
#pragma once

#include <toml++/toml.h>
#include <nlohmann/json.hpp>

namespace flowgate::scenario {

nlohmann::json toml_to_json(const toml::node& node);

}  // namespace flowgate::scenario
