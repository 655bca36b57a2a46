// Who is calling and what they may do. A connection's caller is identified by the kernel
// (SO_PEERCRED: uid, gid, pid), never by anything it says. AccessPolicy::admit turns those
// credentials into a Principal: the verified user name, its groups, the workflow roles and methods
// its config entries grant, and whether it is trusted to speak for others (`actor`,
// `on_behalf_of`).
//
// Rules (docs/protocol.md "Who may do what"):
// - The owner (the uid the server runs as) may always connect, call every method, holds every
//   role the loaded workflows declare and is trusted.
// - With no config file nobody else may connect.
// - With a config file a caller is admitted when its user or one of its groups has an entry; it
//   gets the union of those entries. Anyone else is refused when connecting.
// Thread-safety: AccessPolicy is immutable after construction; Principal is a plain value.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

#include "server/config.h"
#include "util/error.h"

namespace flowgate::server {

struct PeerCredentials {
  uid_t uid = 0;
  gid_t gid = 0;
  pid_t pid = 0;
};

// The credentials of the process at the other end of a connected Unix socket.
Result<PeerCredentials> peer_credentials(int fd);

struct Principal {
  std::string user;  // verified user name ("uid:N" when the uid has no name)
  PeerCredentials peer;
  std::vector<std::string> groups;   // names of the primary and supplementary groups
  std::vector<std::string> roles;    // granted roles, sorted, unique (without "*")
  bool all_roles = false;            // holds every role the loaded workflows declare
  std::vector<std::string> methods;  // granted method patterns
  bool trusted = false;
  bool owner = false;

  bool may_call(std::string_view method) const;
  // The roles to act with: `roles`, or every role of `declared` when all_roles.
  std::vector<std::string> effective_roles(const std::vector<std::string>& declared) const;
};

class AccessPolicy {
 public:
  // `config.has_file == false`: only the owner may connect.
  AccessPolicy(ServerConfig config, uid_t owner_uid);

  // The principal for a connecting peer, or kForbidden naming why it may not connect.
  Result<Principal> admit(const PeerCredentials& peer) const;

  uid_t owner_uid() const { return owner_uid_; }

  // Name lookups, replaceable in tests (the default reads the system's user and group databases).
  struct Directory {
    std::function<std::string(uid_t)> user_name;                        // "" when unknown
    std::function<std::vector<std::string>(uid_t, gid_t)> group_names;  // primary + supplementary
  };
  static Directory system_directory();
  void set_directory(Directory d) { directory_ = std::move(d); }

 private:
  ServerConfig config_;
  uid_t owner_uid_;
  Directory directory_;
};

}  // namespace flowgate::server
