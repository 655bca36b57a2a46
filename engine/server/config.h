// The server's configuration file (TOML, docs/protocol.md "Configuration"): operational settings in
// [server] and who may do what in [users.<name>] and [groups.<name>]. Unknown keys, wrong types,
// unknown method names and bad values are errors with the file position, so a typo never silently
// widens or narrows access.
// Thread-safety: plain values; the loader is reentrant.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "util/error.h"

namespace flowgate::server {

struct ServerSettings {
  unsigned socket_mode = 0660;  // permission bits of the socket file
  std::string socket_group;     // group that owns the socket file ("" = the server's group)
  std::chrono::milliseconds idle_timeout{std::chrono::minutes(5)};     // nothing received
  std::chrono::milliseconds write_timeout{std::chrono::seconds(30)};   // output not drained
  std::chrono::milliseconds shutdown_grace{std::chrono::seconds(10)};  // SIGTERM: in-flight work
  std::size_t max_line_bytes = 1 << 20;
  std::size_t max_in_flight = 1024;  // per connection; reading pauses beyond it
  std::size_t watch_buffer = 10000;  // notifications queued for one watcher before it is dropped
  std::size_t worker_threads = 2;    // reads and other blocking work
  std::string log_level = "info";    // trace, debug, info, warn, error, off
  std::string log_file;              // "" = stderr
};

// What a user or a group is granted. A principal gets the union of its user entry and the entries
// of every group it belongs to.
struct Grant {
  std::vector<std::string> roles;    // workflow roles; "*" = every role the workflows declare
  std::vector<std::string> methods;  // "instance.fire", "instance.*", "*"
  bool trusted = false;              // may set `actor` and `on_behalf_of`
  std::string where;                 // "file:line:col" of the entry, for messages
};

struct AccessConfig {
  std::map<std::string, Grant> users;   // by Unix user name
  std::map<std::string, Grant> groups;  // by Unix group name
};

struct ServerConfig {
  ServerSettings settings;
  AccessConfig access;
  bool has_file = false;  // false: no config file, only the owner may connect
};

// Parses a config file. Method names are checked later against the server's method table
// (check_config_methods), which exists only once the server is built.
Result<ServerConfig> load_server_config(const std::string& path);
Result<ServerConfig> parse_server_config(std::string_view text, const std::string& file);

// A grant naming an exact method the server does not offer is an error ("did you mean"); patterns
// ending in ".*" and "*" are accepted.
Result<void> check_config_methods(const ServerConfig& config,
                                  const std::vector<std::string>& methods);

// True when `pattern` ("*", "instance.*" or an exact name) covers `method`.
bool method_matches(std::string_view pattern, std::string_view method);

}  // namespace flowgate::server
