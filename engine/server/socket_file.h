// The files a server holds on disk besides the database: the socket and "<db>.lock".
//
// - check_socket_directory: the socket's directory must belong to the server's user or root and
//   must not be writable by anyone else unless it is sticky (like /tmp): otherwise another user
//   could replace the socket with one of their own and receive the callers' requests.
// - clear_stale_socket: a socket file left by a crashed server is removed; a file that is not a
//   socket, or a socket a live server still answers on, is refused.
// - check_database_free: a second server on the same database is refused at start (the engine
//   holds an flock on "<db>.lock" for its life; the kernel drops it if the process dies).
// Thread-safety: functions are reentrant.
#pragma once

#include <string>

#include "util/error.h"

namespace flowgate::server {

Result<void> check_socket_directory(const std::string& socket_path);
Result<void> clear_stale_socket(const std::string& socket_path);

// Refuses at once when another process (a running server or CLI writer) holds the engine's
// writer lock on "<db>.lock" (runtime/engine.h), instead of letting Engine::open wait for it.
// The probe releases the lock immediately: the engine takes it for its life.
Result<void> check_database_free(const std::string& db_path);

}  // namespace flowgate::server
