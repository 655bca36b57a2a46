// `flowgate graph FILE [--format dot|mermaid|svg] [-o OUT]`: draws a process file.
// dot and mermaid are text written by engine/definition/graph.h; svg pipes the DOT text through
// Graphviz (`dot -Tsvg`), which must be installed. docs/diagrams.md describes the output.
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>

#include <fmt/format.h>

#include "definition/graph.h"
#include "definition/loader.h"
#include "tools/flowgate/command.h"
#include "tools/flowgate/sections.h"
#include "util/error.h"

namespace flowgate::cli {
namespace {

// The `dot` executable on PATH, or nullopt.
std::optional<std::string> find_graphviz_dot() {
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/bin:/bin";
  std::size_t start = 0;
  while (start <= dirs.size()) {
    std::size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    std::string dir = dirs.substr(start, end - start);
    std::string candidate = (dir.empty() ? std::string(".") : dir) + "/dot";
    struct stat st {};
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        ::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
    start = end + 1;
  }
  return std::nullopt;
}

// Restores the previous SIGPIPE disposition on scope exit: a Graphviz that dies early must turn
// into an error message, not kill flowgate.
class IgnoreSigpipe {
 public:
  IgnoreSigpipe() { previous_ = std::signal(SIGPIPE, SIG_IGN); }
  ~IgnoreSigpipe() { std::signal(SIGPIPE, previous_); }
  IgnoreSigpipe(const IgnoreSigpipe&) = delete;
  IgnoreSigpipe& operator=(const IgnoreSigpipe&) = delete;

 private:
  void (*previous_)(int) = SIG_DFL;
};

// Runs `dot -Tsvg` with `dot_text` on its stdin and returns its stdout. Graphviz's own warnings
// go to our stderr. Reads and writes are interleaved with poll() so a large graph cannot deadlock
// on full pipes.
Result<std::string> render_svg(const std::string& dot_text) {
  auto dot = find_graphviz_dot();
  if (!dot) {
    return fail(Error(ErrorCode::kInvalidArgument, "Graphviz `dot` was not found on PATH")
                    .with_hint("install Graphviz: apt-get install graphviz"));
  }
  int in_pipe[2];
  int out_pipe[2];
  if (::pipe2(in_pipe, O_CLOEXEC) != 0) {
    return fail(ErrorCode::kInternal, fmt::format("pipe: {}", std::strerror(errno)));
  }
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) {
    int err = errno;
    ::close(in_pipe[0]);
    ::close(in_pipe[1]);
    return fail(ErrorCode::kInternal, fmt::format("pipe: {}", std::strerror(err)));
  }
  IgnoreSigpipe no_sigpipe;
  pid_t pid = ::fork();
  if (pid < 0) {
    int err = errno;
    for (int fd : {in_pipe[0], in_pipe[1], out_pipe[0], out_pipe[1]}) ::close(fd);
    return fail(ErrorCode::kInternal, fmt::format("fork: {}", std::strerror(err)));
  }
  if (pid == 0) {
    ::dup2(in_pipe[0], STDIN_FILENO);
    ::dup2(out_pipe[1], STDOUT_FILENO);
    std::signal(SIGPIPE, SIG_DFL);
    ::execl(dot->c_str(), "dot", "-Tsvg", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(in_pipe[0]);
  ::close(out_pipe[1]);

  std::string svg;
  std::size_t written = 0;
  int to_dot = in_pipe[1];
  int from_dot = out_pipe[0];
  ::fcntl(to_dot, F_SETFL, ::fcntl(to_dot, F_GETFL) | O_NONBLOCK);
  std::string io_error;
  while (from_dot >= 0) {
    pollfd fds[2];
    nfds_t n = 0;
    fds[n++] = {from_dot, POLLIN, 0};
    if (to_dot >= 0) fds[n++] = {to_dot, POLLOUT, 0};
    if (::poll(fds, n, -1) < 0) {
      if (errno == EINTR) continue;
      io_error = fmt::format("poll: {}", std::strerror(errno));
      break;
    }
    if (to_dot >= 0 && fds[1].revents != 0) {
      ssize_t k = ::write(to_dot, dot_text.data() + written, dot_text.size() - written);
      if (k > 0) written += static_cast<std::size_t>(k);
      // EPIPE: Graphviz stopped reading; its exit status tells why.
      if ((k < 0 && errno != EAGAIN && errno != EINTR) || written == dot_text.size()) {
        ::close(to_dot);
        to_dot = -1;
      }
    }
    if (fds[0].revents != 0) {
      char buf[65536];
      ssize_t k = ::read(from_dot, buf, sizeof buf);
      if (k > 0) {
        svg.append(buf, static_cast<std::size_t>(k));
      } else if (k == 0 || (errno != EAGAIN && errno != EINTR)) {
        ::close(from_dot);
        from_dot = -1;
      }
    }
  }
  if (to_dot >= 0) ::close(to_dot);
  if (from_dot >= 0) ::close(from_dot);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!io_error.empty()) return fail(ErrorCode::kInternal, io_error);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::string how = WIFEXITED(status) ? fmt::format("exited with status {}", WEXITSTATUS(status))
                                        : fmt::format("was killed by signal {}", WTERMSIG(status));
    return fail(Error(ErrorCode::kInternal, fmt::format("Graphviz `{}` {}", *dot, how))
                    .with_hint("try `--format dot` and run Graphviz yourself to see its message"));
  }
  return svg;
}

// The format implied by an output file name, or "" when the extension says nothing.
std::string format_from_extension(const std::string& path) {
  auto ends_with = [&](std::string_view ext) {
    return path.size() > ext.size() && path.compare(path.size() - ext.size(), ext.size(), ext) == 0;
  };
  if (ends_with(".svg")) return "svg";
  if (ends_with(".mmd") || ends_with(".mermaid")) return "mermaid";
  if (ends_with(".dot") || ends_with(".gv")) return "dot";
  return "";
}

int run_graph(const std::string& file, std::string format, const std::string& out_path) {
  LoadResult loaded = load_workflow_file(file, cli_sections());
  for (const auto& d : loaded.diagnostics.items()) std::cerr << d.to_string() << "\n";
  if (!loaded.ok()) {
    std::cerr << fmt::format("flowgate: {} has errors; nothing drawn\n", file);
    return kExitRefused;
  }
  if (format.empty()) format = format_from_extension(out_path);
  if (format.empty()) format = "dot";

  GraphAnnotations notes;
  for (const auto& hooks : cli_hooks()->all()) hooks->annotate_graph(*loaded.workflow, notes);
  std::string text;
  if (format == "mermaid") {
    text = to_mermaid(*loaded.workflow, notes);
  } else if (format == "svg") {
    auto svg = render_svg(to_dot(*loaded.workflow, notes));
    if (!svg) {
      std::cerr << "flowgate: " << svg.error().to_string() << "\n";
      return kExitRefused;
    }
    text = std::move(*svg);
  } else {
    text = to_dot(*loaded.workflow, notes);
  }

  if (out_path.empty() || out_path == "-") {
    std::cout << text;
    std::cout.flush();
    return std::cout ? kExitOk : kExitRefused;
  }
  std::ofstream out(out_path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) {
    std::cerr << fmt::format("flowgate: cannot write {}: {}\n", out_path, std::strerror(errno));
    return kExitRefused;
  }
  return kExitOk;
}

const CommandRegistrar kGraph{
    "graph", "Draw a process file as a diagram (Graphviz DOT, Mermaid or SVG)", [](CLI::App& sub) {
      auto file = std::make_shared<std::string>();
      auto format = std::make_shared<std::string>();
      auto out = std::make_shared<std::string>();
      sub.add_option("FILE", *file, "The process file (TOML)")->required();
      sub.add_option("-f,--format", *format,
                     "dot, mermaid or svg (svg needs Graphviz); default: from the -o extension "
                     "(.dot/.gv, .mmd, .svg), else dot")
          ->check(CLI::IsMember({"dot", "mermaid", "svg"}));
      sub.add_option("-o,--output", *out, "Write here instead of standard output");
      return [file, format, out] { return run_graph(*file, *format, *out); };
    }};

}  // namespace
}  // namespace flowgate::cli
