// Helpers for the server integration tests: start the real `flowgate serve` as a child process on
// a temporary database and socket, talk to it over the Unix socket, stop it with a signal, and run
// a program as another user (the tests run as root; `nobody` plays the stranger).
#pragma once

#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "server/client.h"
#include "support/process.h"
#include "support/temp_dir.h"

namespace flowgate::testing {

using Json = nlohmann::json;
using namespace std::chrono_literals;

inline constexpr uid_t kNobody = 65534;
inline constexpr gid_t kNoGroup = 65534;

struct ServeOptions {
  std::string config;  // TOML text of --config; "" = none (owner-only access)
  bool simulated = true;
  std::vector<std::string> extra;  // more arguments
};

inline ServeOptions with_config(std::string toml) {
  ServeOptions o;
  o.config = std::move(toml);
  return o;
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
}

inline std::string fixture(const std::string& relative) {
  return read_file(std::string(FLOWGATE_SOURCE_DIR) + "/tests/fixtures/" + relative);
}

// One `flowgate serve` child process. Its log (debug level) is dir/server-N.log.
class ServerProcess {
 public:
  explicit ServerProcess(TempDir& dir, ServeOptions options = {}, std::string db_name = "s.db",
                         std::string socket_name = "s.sock")
      : dir_(dir), options_(std::move(options)) {
    static int counter = 0;
    ++counter;
    db = dir.file(db_name);
    socket = dir.file(socket_name);
    workflows = dir.file("workflows");
    log_path = dir.file("server-" + std::to_string(counter) + ".log");
    stderr_path = dir.file("server-" + std::to_string(counter) + ".err");
    if (!std::filesystem::exists(workflows)) {
      std::filesystem::create_directories(workflows);
      write_file(workflows + "/deal.toml", fixture("runtime/deal.toml"));
    }
    if (!options_.config.empty()) {
      config_path = dir.file("server-" + std::to_string(counter) + ".toml");
      write_file(config_path, options_.config);
    }
  }
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;
  ~ServerProcess() {
    if (pid > 0) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
  }

  std::vector<std::string> argv() const {
    std::vector<std::string> a = {FLOWGATE_BINARY, "serve",   "--db",        db,
                                  "--workflows",   workflows, "--socket",    socket,
                                  "--log-file",    log_path,  "--log-level", "debug"};
    if (!config_path.empty()) {
      a.push_back("--config");
      a.push_back(config_path);
    }
    if (options_.simulated) {
      a.insert(a.end(), {"--clock", "simulated", "--now", "2026-03-02T09:00:00Z"});
    }
    a.insert(a.end(), options_.extra.begin(), options_.extra.end());
    return a;
  }

  // Starts the server and waits until server.health answers (false if it exits or never does).
  bool start() {
    pid = fork();
    if (pid == 0) {
      int fd = open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
      std::vector<std::string> a = argv();
      std::vector<char*> args;
      for (auto& s : a) args.push_back(s.data());
      args.push_back(nullptr);
      execv(args[0], args.data());
      _exit(127);
    }
    auto deadline = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (waitpid(pid, &status, WNOHANG) == pid) {
        pid = -1;
        exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        return false;
      }
      auto c = server::RpcClient::connect(socket);
      if (c) {
        auto health = c->call("server.health");
        if (health && (*health)["pid"] == pid) return true;
      }
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }

  server::RpcClient client() const {
    auto c = server::RpcClient::connect(socket);
    INFO((c ? std::string() : c.error().to_string()));
    REQUIRE(c);
    return std::move(*c);
  }

  // Sends `sig` and waits for the exit status (128 + signal if it was killed).
  int signal_and_wait(int sig = SIGTERM) {
    REQUIRE(pid > 0);
    kill(pid, sig);
    return wait_exit();
  }
  int wait_exit() {
    int status = 0;
    waitpid(pid, &status, 0);
    pid = -1;
    exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return exit_status;
  }

  std::string log() const { return read_file(log_path); }
  std::string errors() const { return read_file(stderr_path); }

  pid_t pid = -1;
  int exit_status = -1;
  std::string db, socket, workflows, log_path, stderr_path, config_path;

 private:
  TempDir& dir_;
  ServeOptions options_;
};

// Reads the next line as JSON (fails the test on timeout or end of stream).
inline Json next_json(server::RpcClient& c, std::chrono::milliseconds timeout = 20s) {
  auto line = c.read_line(timeout);
  INFO((line ? std::string() : line.error().to_string()));
  REQUIRE(line);
  REQUIRE(*line);
  return Json::parse(**line);
}

inline std::string rpc(const std::string& method, const Json& params, Json id = 1) {
  return Json{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", params}}.dump();
}

// Waits until `done()` holds, polling; false after `limit`.
template <typename F>
bool eventually(F done, std::chrono::milliseconds limit = 20s) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return done();
}

// Runs a program as another user (setgid/setuid in the child) and captures its output.
inline ProcessResult run_as(uid_t uid, gid_t gid, const std::vector<std::string>& argv) {
  int out[2], err[2];
  if (pipe(out) || pipe(err)) return {};
  pid_t child = fork();
  if (child == 0) {
    dup2(out[1], 1);
    dup2(err[1], 2);
    for (int fd : {out[0], out[1], err[0], err[1]}) close(fd);
    if (setgroups(0, nullptr) != 0 || setgid(gid) != 0 || setuid(uid) != 0) _exit(126);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  close(out[1]);
  close(err[1]);
  ProcessResult r;
  char buf[4096];
  for (int fd : {out[0], err[0]}) {
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) (fd == out[0] ? r.out : r.err).append(buf, n);
    close(fd);
  }
  int status = 0;
  waitpid(child, &status, 0);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

}  // namespace flowgate::testing
