#include "plugin/plugin.h"

#include <dlfcn.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

namespace flowgate {

PluginRegistry::PluginRegistry() : hooks_(std::make_shared<HookSet>()) {}

Result<void> PluginRegistry::add(Plugin plugin) {
  for (const auto& p : plugins_) {
    if (p.name == plugin.name) {
      return fail(ErrorCode::kInvalidArgument,
                  fmt::format("a plugin named `{}` is already loaded", plugin.name));
    }
  }
  if (plugin.sections) {
    for (const auto& section : plugin.sections->sections()) {
      if (sections_.find(section)) {
        return fail(ErrorCode::kInvalidArgument,
                    fmt::format("plugin `{}` claims section [{}], which another plugin claims",
                                plugin.name, section));
      }
    }
    sections_.add(plugin.sections);
  }
  if (plugin.hooks) {
    if (plugin.hooks->name() != plugin.name) {
      return fail(ErrorCode::kInvalidArgument,
                  fmt::format("plugin `{}` has hooks named `{}`; they must match", plugin.name,
                              plugin.hooks->name()));
    }
    hooks_->add(plugin.hooks);
  }
  plugins_.push_back(std::move(plugin));
  return {};
}

namespace {

// dlopen + entry checks, shared by the probe child and the real load. On success fills `entry`.
Result<void> open_entry(const std::string& path, const FlowgatePluginEntry*& entry) {
  void* lib = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) {
    return fail(ErrorCode::kInvalidArgument,
                fmt::format("cannot load plugin {}: {}", path, dlerror()));
  }
  auto fn = reinterpret_cast<FlowgatePluginEntryFn>(dlsym(lib, "flowgate_plugin_entry"));
  if (fn == nullptr) {
    return fail(Error(ErrorCode::kInvalidArgument,
                      fmt::format("plugin {} has no entry point `flowgate_plugin_entry`", path))
                    .with_hint("export: extern \"C\" const FlowgatePluginEntry* "
                               "flowgate_plugin_entry(void)"));
  }
  entry = fn();
  if (entry == nullptr || entry->create == nullptr || entry->destroy == nullptr) {
    return fail(ErrorCode::kInvalidArgument,
                fmt::format("plugin {}: its entry point returned an incomplete entry", path));
  }
  if (entry->api_version != kFlowgatePluginApiVersion) {
    return fail(Error(ErrorCode::kInvalidArgument,
                      fmt::format("plugin {} was built for plugin API version {}; this flowgate "
                                  "speaks version {}",
                                  path, entry->api_version, kFlowgatePluginApiVersion))
                    .with_hint("rebuild the plugin against this flowgate's headers"));
  }
  return {};
}

// Loads the plugin in a child process first: a crash there is reported, not inherited.
Result<void> probe_in_child(const std::string& path) {
  int pipefd[2];
  if (pipe(pipefd) != 0) return {};  // cannot probe; load directly
  pid_t pid = fork();
  if (pid < 0) {
    close(pipefd[0]);
    close(pipefd[1]);
    return {};
  }
  if (pid == 0) {
    close(pipefd[0]);
    const FlowgatePluginEntry* entry = nullptr;
    auto ok = open_entry(path, entry);
    std::string msg = ok ? std::string() : ok.error().message;
    if (ok) {
      Plugin* p = entry->create();
      if (p == nullptr)
        msg = fmt::format("plugin {}: create() returned nothing", path);
      else
        entry->destroy(p);
    }
    ssize_t ignored = write(pipefd[1], msg.data(), msg.size());
    (void)ignored;
    _exit(msg.empty() ? 0 : 1);
  }
  close(pipefd[1]);
  std::string msg;
  char buf[1024];
  for (ssize_t n; (n = read(pipefd[0], buf, sizeof buf)) > 0;)
    msg.append(buf, static_cast<std::size_t>(n));
  close(pipefd[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFSIGNALED(status)) {
    return fail(ErrorCode::kInvalidArgument, fmt::format("plugin {} crashed while loading ({})",
                                                         path, strsignal(WTERMSIG(status))));
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
    return fail(ErrorCode::kInvalidArgument,
                msg.empty() ? fmt::format("plugin {} failed to load", path) : msg);
  }
  return {};
}

}  // namespace

Result<Plugin> load_shared_plugin(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return fail(ErrorCode::kInvalidArgument, fmt::format("plugin {} does not exist", path));
  }
  if (auto ok = probe_in_child(path); !ok) return fail(ok.error());
  const FlowgatePluginEntry* entry = nullptr;
  if (auto ok = open_entry(path, entry); !ok) return fail(ok.error());
  Plugin* raw = entry->create();
  if (raw == nullptr) {
    return fail(ErrorCode::kInvalidArgument,
                fmt::format("plugin {}: create() returned nothing", path));
  }
  Plugin out = *raw;
  entry->destroy(raw);
  if (out.name.empty()) out.name = entry->name ? entry->name : "";
  if (out.name.empty()) {
    return fail(ErrorCode::kInvalidArgument, fmt::format("plugin {} has no name", path));
  }
  return out;
}

Result<std::vector<std::string>> load_plugin_dir(const std::string& dir,
                                                 const std::vector<std::string>& optional,
                                                 PluginRegistry& registry) {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::vector<std::string> files;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().extension() == ".so") files.push_back(it->path());
  }
  if (ec) {
    return fail(ErrorCode::kInvalidArgument,
                fmt::format("cannot read the plugin directory {}: {}", dir, ec.message()));
  }
  std::sort(files.begin(), files.end());
  std::vector<std::string> warnings;
  for (const auto& file : files) {
    std::string stem = fs::path(file).stem();
    bool is_optional = std::find(optional.begin(), optional.end(), stem) != optional.end();
    auto plugin = load_shared_plugin(file);
    Result<void> added = plugin ? registry.add(*plugin) : Result<void>(fail(plugin.error()));
    if (plugin && !is_optional) {
      is_optional = std::find(optional.begin(), optional.end(), plugin->name) != optional.end();
    }
    if (!added) {
      if (!is_optional) return fail(added.error());
      warnings.push_back(fmt::format("optional plugin skipped: {}", added.error().message));
    }
  }
  return warnings;
}

}  // namespace flowgate
