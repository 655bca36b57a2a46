// A small blocking client for the socket protocol: connect to a server's Unix socket, send
// requests, read answers and notifications line by line. Used by `flowgate call`, the CLI verbs'
// --socket mode, the server bench and the integration tests.
// Thread-safety: one RpcClient per thread.
#pragma once

#include <chrono>
#include <deque>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "util/error.h"

namespace flowgate::server {

class RpcClient {
 public:
  static Result<RpcClient> connect(const std::string& socket_path);
  RpcClient(RpcClient&& other) noexcept;
  RpcClient& operator=(RpcClient&& other) noexcept;
  RpcClient(const RpcClient&) = delete;
  RpcClient& operator=(const RpcClient&) = delete;
  ~RpcClient();

  // Sends one request and waits for the answer with its id; notifications that arrive first are
  // kept for next_notification(). An error answer becomes an Error: engine errors keep their code
  // (Error::from_json); protocol errors are kInvalidArgument (kInternal for -32603) with the
  // JSON-RPC code in data["rpc_code"]. The connection closing is kUnavailable.
  Result<nlohmann::json> call(const std::string& method,
                              nlohmann::json params = nlohmann::json::object());
  // The same, returning the whole response object ({"result"} or {"error"}).
  Result<nlohmann::json> request(const std::string& method,
                                 nlohmann::json params = nlohmann::json::object());

  // The next notification (queued or read from the socket); nullopt on timeout. The connection
  // closing is kUnavailable.
  Result<std::optional<nlohmann::json>> next_notification(std::chrono::milliseconds timeout);

  // Raw access for tests and tools.
  Result<void> send_line(std::string_view line);  // appends "\n" unless present
  // One line without its newline; nullopt on timeout; kUnavailable at end of stream.
  Result<std::optional<std::string>> read_line(std::chrono::milliseconds timeout);
  int fd() const { return fd_; }

  // Turns a JSON-RPC error object into an Error.
  static Error error_from_rpc(const nlohmann::json& error);

  static constexpr std::chrono::milliseconds kCallTimeout{std::chrono::minutes(5)};

 private:
  explicit RpcClient(int fd) : fd_(fd) {}
  int fd_ = -1;
  std::string buffer_;
  std::int64_t next_id_ = 0;
  std::deque<nlohmann::json> notifications_;
};

}  // namespace flowgate::server
