#include "server/config.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "definition/value.h"
#include "util/diagnostic.h"

namespace flowgate::server {

bool method_matches(std::string_view pattern, std::string_view method) {
  if (pattern == "*") return true;
  if (pattern.size() >= 2 && pattern.ends_with(".*")) {
    std::string_view prefix = pattern.substr(0, pattern.size() - 1);  // keeps the dot
    return method.starts_with(prefix);
  }
  return pattern == method;
}

namespace {

// Collects the first error with its position in the file.
class Reader {
 public:
  Reader(std::string file) : file_(std::move(file)) {}

  bool failed() const { return error_.has_value(); }
  Error take() { return std::move(*error_); }

  SourceLocation location(const toml::node& node) const {
    SourceLocation where{file_, 0, 0};
    if (node.source().begin) {
      where.line = static_cast<int>(node.source().begin.line);
      where.column = static_cast<int>(node.source().begin.column);
    }
    return where;
  }
  std::string where(const toml::node& node) const { return location(node).to_string(); }

  void fail_at(const toml::node& node, std::string message, std::string hint = {}) {
    if (error_) return;
    SourceLocation where = location(node);
    Error e(ErrorCode::kInvalidArgument, fmt::format("{}: {}", where.to_string(), message));
    e.hint = std::move(hint);
    e.location = where;
    error_ = std::move(e);
  }

  void only_keys(const toml::table& t, std::string_view where,
                 std::initializer_list<std::string_view> allowed) {
    for (auto&& [key, value] : t) {
      if (std::find(allowed.begin(), allowed.end(), key.str()) != allowed.end()) continue;
      std::vector<std::string> names(allowed.begin(), allowed.end());
      std::string near = closest_match(key.str(), names);
      fail_at(value, fmt::format("unknown key `{}` in {}", key.str(), where),
              near.empty() ? fmt::format("allowed: {}", fmt::join(names, ", "))
                           : fmt::format("did you mean `{}`?", near));
    }
  }

  std::vector<std::string> string_list(const toml::node& node, std::string_view what) {
    std::vector<std::string> out;
    const toml::array* arr = node.as_array();
    if (!arr) {
      fail_at(node, fmt::format("{} must be an array of strings", what));
      return out;
    }
    for (const toml::node& e : *arr) {
      if (!e.is_string()) {
        fail_at(e, fmt::format("{} must hold only strings", what));
        return out;
      }
      out.push_back(std::string(*e.value<std::string_view>()));
    }
    return out;
  }

 private:
  std::string file_;
  std::optional<Error> error_;
};

void read_settings(const toml::table& t, ServerSettings& s, Reader& rd) {
  rd.only_keys(t, "[server]",
               {"socket_mode", "socket_group", "idle_timeout", "write_timeout", "shutdown_grace",
                "max_line_bytes", "max_in_flight", "watch_buffer", "worker_threads", "log_level",
                "log_file"});
  for (auto&& [k, v] : t) {
    std::string_view key = k.str();
    if (key == "socket_mode") {
      auto text = v.value<std::string>();
      unsigned mode = 0;
      bool ok =
          text && !text->empty() && text->size() <= 4 &&
          std::all_of(text->begin(), text->end(), [](char c) { return c >= '0' && c <= '7'; });
      if (ok) mode = static_cast<unsigned>(std::stoul(*text, nullptr, 8));
      if (!ok || (mode & 0600) != 0600 || (mode & 07111) != 0) {
        rd.fail_at(v,
                   "socket_mode must be an octal string such as \"0660\" that gives the owner "
                   "read and write and no execute or special bits");
      } else {
        s.socket_mode = mode;
      }
    } else if (key == "idle_timeout" || key == "write_timeout" || key == "shutdown_grace") {
      auto text = v.value<std::string>();
      auto ms = text ? parse_duration_ms(*text) : std::nullopt;
      if (!ms || *ms <= 0) {
        rd.fail_at(v,
                   fmt::format("{} must be a positive duration such as \"5m\" or \"250ms\"", key));
        continue;
      }
      auto& field = key == "idle_timeout"    ? s.idle_timeout
                    : key == "write_timeout" ? s.write_timeout
                                             : s.shutdown_grace;
      field = std::chrono::milliseconds(*ms);
    } else if (key == "max_line_bytes" || key == "max_in_flight" || key == "watch_buffer" ||
               key == "worker_threads") {
      auto n = v.value<std::int64_t>();
      std::int64_t lo = key == "max_line_bytes" ? 1024 : 1;
      std::int64_t hi = key == "max_line_bytes"   ? std::int64_t{1} << 30
                        : key == "worker_threads" ? 64
                                                  : 10'000'000;
      if (!v.is_integer() || !n || *n < lo || *n > hi) {
        rd.fail_at(v, fmt::format("{} must be an integer from {} to {}", key, lo, hi));
        continue;
      }
      auto value = static_cast<std::size_t>(*n);
      if (key == "max_line_bytes") s.max_line_bytes = value;
      if (key == "max_in_flight") s.max_in_flight = value;
      if (key == "watch_buffer") s.watch_buffer = value;
      if (key == "worker_threads") s.worker_threads = value;
    } else if (key == "log_level") {
      auto text = v.value<std::string>();
      static const std::vector<std::string> levels = {"trace", "debug",    "info", "warn",
                                                      "error", "critical", "off"};
      if (!text || std::find(levels.begin(), levels.end(), *text) == levels.end()) {
        rd.fail_at(v, fmt::format("log_level must be one of {}", fmt::join(levels, ", ")));
        continue;
      }
      s.log_level = *text;
    } else if (key == "socket_group") {
      auto text = v.value<std::string>();
      if (!text || text->empty()) {
        rd.fail_at(v, "socket_group must be a group name");
        continue;
      }
      s.socket_group = *text;
    } else if (key == "log_file") {
      auto text = v.value<std::string>();
      if (!text) {
        rd.fail_at(v, "log_file must be a string (a path)");
        continue;
      }
      s.log_file = *text;
    }
  }
}

void read_grants(const toml::table& t, std::string_view kind, std::map<std::string, Grant>& out,
                 Reader& rd) {
  for (auto&& [name, node] : t) {
    const toml::table* g = node.as_table();
    std::string where = fmt::format("[{}.{}]", kind, name.str());
    if (!g) {
      rd.fail_at(node, fmt::format("{} must be a table with roles, methods and trusted", where));
      return;
    }
    rd.only_keys(*g, where, {"roles", "methods", "trusted"});
    Grant grant;
    if (const toml::node* roles = g->get("roles")) grant.roles = rd.string_list(*roles, "roles");
    if (const toml::node* m = g->get("methods")) grant.methods = rd.string_list(*m, "methods");
    grant.where = rd.where(node) + " " + where;
    if (const toml::node* trusted = g->get("trusted")) {
      if (!trusted->is_boolean()) {
        rd.fail_at(*trusted, "trusted must be true or false");
      } else {
        grant.trusted = *trusted->value<bool>();
      }
    }
    out[std::string(name.str())] = std::move(grant);
  }
}

}  // namespace

Result<ServerConfig> parse_server_config(std::string_view text, const std::string& file) {
  toml::table root;
  try {
    root = toml::parse(text, std::string_view(file));
  } catch (const toml::parse_error& e) {
    SourceLocation where{file, static_cast<int>(e.source().begin.line),
                         static_cast<int>(e.source().begin.column)};
    return fail(Error(ErrorCode::kInvalidArgument,
                      fmt::format("{}: {}", where.to_string(), e.description()))
                    .at(where));
  }
  Reader rd(file);
  ServerConfig config;
  config.has_file = true;
  rd.only_keys(root, "the server configuration", {"server", "users", "groups"});
  if (const toml::node* n = root.get("server")) {
    if (const toml::table* t = n->as_table()) {
      read_settings(*t, config.settings, rd);
    } else {
      rd.fail_at(*n, "[server] must be a table");
    }
  }
  for (const char* kind : {"users", "groups"}) {
    const toml::node* n = root.get(kind);
    if (!n) continue;
    if (const toml::table* t = n->as_table()) {
      read_grants(*t, kind,
                  kind == std::string_view("users") ? config.access.users : config.access.groups,
                  rd);
    } else {
      rd.fail_at(*n, fmt::format("[{}] must be a table of tables", kind));
    }
  }
  if (rd.failed()) return fail(rd.take());
  return config;
}

Result<ServerConfig> load_server_config(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return fail(Error(ErrorCode::kInvalidArgument,
                      fmt::format("cannot read the server configuration {}", path)));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (text.str().size() > (1u << 20)) {
    return fail(ErrorCode::kInvalidArgument,
                fmt::format("the server configuration {} is larger than 1 MiB", path));
  }
  return parse_server_config(text.str(), path);
}

Result<void> check_config_methods(const ServerConfig& config,
                                  const std::vector<std::string>& methods) {
  for (const auto* grants : {&config.access.users, &config.access.groups}) {
    for (const auto& [name, grant] : *grants) {
      for (const auto& pattern : grant.methods) {
        if (pattern == "*" || pattern.ends_with(".*") ||
            std::find(methods.begin(), methods.end(), pattern) != methods.end()) {
          continue;
        }
        std::string near = closest_match(pattern, methods);
        return fail(Error(ErrorCode::kInvalidArgument,
                          fmt::format("{}: unknown method `{}`", grant.where, pattern))
                        .with_hint(near.empty() ? "docs/protocol.md lists the methods"
                                                : fmt::format("did you mean `{}`?", near)));
      }
    }
  }
  return {};
}

}  // namespace flowgate::server
