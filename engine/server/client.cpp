#include "server/client.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "server/protocol.h"

namespace flowgate::server {

using nlohmann::json;

Result<RpcClient> RpcClient::connect(const std::string& socket_path) {
  sockaddr_un addr{};
  if (socket_path.empty() || socket_path.size() >= sizeof addr.sun_path) {
    return fail(ErrorCode::kInvalidArgument,
                fmt::format("`{}` is not a usable socket path", socket_path));
  }
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail(ErrorCode::kInternal, fmt::format("socket(): {}", std::strerror(errno)));
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size());
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    int err = errno;
    ::close(fd);
    return fail(Error(ErrorCode::kUnavailable,
                      fmt::format("cannot connect to {}: {}", socket_path, std::strerror(err)))
                    .with_hint(err == EACCES ? "the socket's mode or group does not admit you"
                                             : "is `flowgate serve` running on that socket?"));
  }
  return RpcClient(fd);
}

RpcClient::RpcClient(RpcClient&& other) noexcept
    : fd_(other.fd_),
      buffer_(std::move(other.buffer_)),
      next_id_(other.next_id_),
      notifications_(std::move(other.notifications_)) {
  other.fd_ = -1;
}

RpcClient& RpcClient::operator=(RpcClient&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
    buffer_ = std::move(other.buffer_);
    next_id_ = other.next_id_;
    notifications_ = std::move(other.notifications_);
  }
  return *this;
}

RpcClient::~RpcClient() {
  if (fd_ >= 0) ::close(fd_);
}

Result<void> RpcClient::send_line(std::string_view line) {
  std::string data(line);
  if (data.empty() || data.back() != '\n') data.push_back('\n');
  std::size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::send(fd_, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(ErrorCode::kUnavailable,
                  fmt::format("the server closed the connection ({})", std::strerror(errno)));
    }
    off += static_cast<std::size_t>(n);
  }
  return {};
}

Result<std::optional<std::string>> RpcClient::read_line(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (auto nl = buffer_.find('\n'); nl != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      return std::optional<std::string>(std::move(line));
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::optional<std::string>();
    pollfd p{fd_, POLLIN, 0};
    int rc = ::poll(&p, 1, static_cast<int>(std::min<std::int64_t>(left.count(), 1'000'000)));
    if (rc < 0) {
      if (errno == EINTR) continue;
      return fail(ErrorCode::kUnavailable, fmt::format("poll(): {}", std::strerror(errno)));
    }
    if (rc == 0) continue;
    char buf[65536];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      return fail(ErrorCode::kUnavailable,
                  n == 0 ? std::string("the server closed the connection")
                         : fmt::format("the connection failed: {}", std::strerror(errno)));
    }
    buffer_.append(buf, static_cast<std::size_t>(n));
  }
}

Error RpcClient::error_from_rpc(const json& error) {
  int code = error.value("code", kInternalError);
  if (code > 0) return Error::from_json(error);
  Error e(code == kInternalError ? ErrorCode::kInternal : ErrorCode::kInvalidArgument,
          error.value("message", std::string("invalid request")));
  if (error.contains("data") && error["data"].is_object()) e.data = error["data"];
  e.data["rpc_code"] = code;
  return e;
}

Result<json> RpcClient::request(const std::string& method, json params) {
  std::int64_t id = ++next_id_;
  json req = {{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", std::move(params)}};
  if (auto ok = send_line(to_line(req)); !ok) {
    // The server may have closed after saying why (a refused connection): prefer its reason.
    auto line = read_line(std::chrono::seconds(1));
    if (line && *line) {
      json msg = json::parse(**line, nullptr, false);
      if (msg.is_object() && msg.contains("error")) return msg;
    }
    return fail(ok.error());
  }
  auto deadline = std::chrono::steady_clock::now() + kCallTimeout;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    auto line = read_line(left);
    if (!line) return fail(line.error());
    if (!*line) {
      return fail(
          ErrorCode::kUnavailable,
          fmt::format("no answer to {} within {} s", method,
                      std::chrono::duration_cast<std::chrono::seconds>(kCallTimeout).count()));
    }
    json msg = json::parse(**line, nullptr, false);
    if (msg.is_discarded() || !msg.is_object()) {
      return fail(ErrorCode::kInternal, "the server sent a line that is not a JSON object");
    }
    if (!msg.contains("id")) {
      notifications_.push_back(std::move(msg));
      continue;
    }
    if (msg["id"] == id) return msg;
    if (msg["id"].is_null() && msg.contains("error")) return msg;  // refused or protocol error
  }
}

Result<json> RpcClient::call(const std::string& method, json params) {
  auto response = request(method, std::move(params));
  if (!response) return fail(response.error());
  if (response->contains("error")) return fail(error_from_rpc((*response)["error"]));
  return std::move((*response)["result"]);
}

Result<std::optional<json>> RpcClient::next_notification(std::chrono::milliseconds timeout) {
  if (!notifications_.empty()) {
    json n = std::move(notifications_.front());
    notifications_.pop_front();
    return std::optional<json>(std::move(n));
  }
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    auto line = read_line(std::max(left, std::chrono::milliseconds(0)));
    if (!line) return fail(line.error());
    if (!*line) return std::optional<json>();
    json msg = json::parse(**line, nullptr, false);
    if (msg.is_discarded() || !msg.is_object()) {
      return fail(ErrorCode::kInternal, "the server sent a line that is not a JSON object");
    }
    if (!msg.contains("id")) return std::optional<json>(std::move(msg));
  }
}

}  // namespace flowgate::server
