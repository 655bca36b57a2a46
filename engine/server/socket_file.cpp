#include "server/socket_file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

namespace flowgate::server {

namespace {
std::string errno_text() { return std::strerror(errno); }
}  // namespace

Result<void> check_socket_directory(const std::string& socket_path) {
  if (socket_path.empty()) return fail(ErrorCode::kInvalidArgument, "the socket path is empty");
  if (socket_path.size() >= sizeof(sockaddr_un{}.sun_path)) {
    return fail(Error(ErrorCode::kInvalidArgument,
                      fmt::format("the socket path is {} bytes long; Unix sockets allow at most {}",
                                  socket_path.size(), sizeof(sockaddr_un{}.sun_path) - 1))
                    .with_hint("use a shorter path, e.g. under /run or /tmp"));
  }
  std::filesystem::path dir = std::filesystem::path(socket_path).parent_path();
  if (dir.empty()) dir = ".";
  struct stat st {};
  if (stat(dir.c_str(), &st) != 0) {
    return fail(
        ErrorCode::kInvalidArgument,
        fmt::format("the socket's directory {} is not usable: {}", dir.string(), errno_text()));
  }
  if (!S_ISDIR(st.st_mode)) {
    return fail(ErrorCode::kInvalidArgument,
                fmt::format("{} (the socket's directory) is not a directory", dir.string()));
  }
  if (st.st_uid != geteuid() && st.st_uid != 0) {
    return fail(Error(ErrorCode::kInvalidArgument,
                      fmt::format("the socket's directory {} belongs to uid {}, not to this user "
                                  "or root",
                                  dir.string(), st.st_uid))
                    .with_hint("put the socket in a directory you own, e.g. /run/flowgate"));
  }
  bool others_write = (st.st_mode & (S_IWGRP | S_IWOTH)) != 0;
  if (others_write && (st.st_mode & S_ISVTX) == 0) {
    return fail(Error(ErrorCode::kInvalidArgument,
                      fmt::format("the socket's directory {} is writable by other users and not "
                                  "sticky: they could replace the socket",
                                  dir.string()))
                    .with_hint(fmt::format("chmod go-w {} (or use a directory only you can write)",
                                           dir.string())));
  }
  return {};
}

Result<void> clear_stale_socket(const std::string& socket_path) {
  struct stat st {};
  if (lstat(socket_path.c_str(), &st) != 0) {
    if (errno == ENOENT) return {};
    return fail(ErrorCode::kInvalidArgument,
                fmt::format("cannot inspect {}: {}", socket_path, errno_text()));
  }
  if (!S_ISSOCK(st.st_mode)) {
    return fail(
        Error(ErrorCode::kInvalidArgument,
              fmt::format("{} exists and is not a socket; refusing to replace it", socket_path))
            .with_hint("choose another --socket path or remove the file yourself"));
  }
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail(ErrorCode::kInternal, fmt::format("socket(): {}", errno_text()));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size());
  int rc = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  int err = errno;
  close(fd);
  if (rc == 0) {
    return fail(Error(ErrorCode::kDatabaseLocked,
                      fmt::format("a server is already listening on {}", socket_path))
                    .with_hint("stop it first, or choose another --socket path"));
  }
  if (err != ECONNREFUSED && err != ENOENT) {
    return fail(ErrorCode::kInvalidArgument, fmt::format("cannot tell whether {} is in use: {}",
                                                         socket_path, std::strerror(err)));
  }
  if (unlink(socket_path.c_str()) != 0 && errno != ENOENT) {
    return fail(ErrorCode::kInvalidArgument,
                fmt::format("cannot remove the stale socket {}: {}", socket_path, errno_text()));
  }
  return {};
}

Result<void> check_database_free(const std::string& db_path) {
  std::string path = db_path + ".lock";
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};  // no lock file yet: nobody has opened the database for writing
  int rc = flock(fd, LOCK_EX | LOCK_NB);
  int err = errno;
  close(fd);  // releases the probe's lock
  if (rc == 0) return {};
  if (err == EWOULDBLOCK) {
    return fail(Error(ErrorCode::kDatabaseLocked,
                      fmt::format("another process is writing to {} (a flowgate server or CLI "
                                  "holds {})",
                                  db_path, path))
                    .with_hint("talk to the running server through its socket, or stop it first")
                    .with_data("lock_file", path));
  }
  return fail(ErrorCode::kStorage, fmt::format("cannot check {}: {}", path, std::strerror(err)));
}

}  // namespace flowgate::server
