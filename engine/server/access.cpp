#include "server/access.h"

#include <grp.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>

#include <fmt/format.h>

namespace flowgate::server {

Result<PeerCredentials> peer_credentials(int fd) {
  ucred cred{};
  socklen_t len = sizeof cred;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
    return fail(ErrorCode::kInternal,
                fmt::format("cannot read the caller's credentials: {}", std::strerror(errno)));
  }
  return PeerCredentials{cred.uid, cred.gid, cred.pid};
}

bool Principal::may_call(std::string_view method) const {
  if (owner) return true;
  return std::any_of(methods.begin(), methods.end(),
                     [&](const std::string& p) { return method_matches(p, method); });
}

std::vector<std::string> Principal::effective_roles(
    const std::vector<std::string>& declared) const {
  if (!all_roles) return roles;
  std::set<std::string> all(roles.begin(), roles.end());
  all.insert(declared.begin(), declared.end());
  return {all.begin(), all.end()};
}

AccessPolicy::Directory AccessPolicy::system_directory() {
  Directory d;
  d.user_name = [](uid_t uid) -> std::string {
    std::vector<char> buf(16384);
    passwd pw{};
    passwd* found = nullptr;
    if (getpwuid_r(uid, &pw, buf.data(), buf.size(), &found) == 0 && found && found->pw_name) {
      return found->pw_name;
    }
    return {};
  };
  d.group_names = [](uid_t uid, gid_t gid) {
    std::vector<std::string> out;
    std::vector<char> buf(16384);
    std::vector<gid_t> gids = {gid};
    passwd pw{};
    passwd* found = nullptr;
    if (getpwuid_r(uid, &pw, buf.data(), buf.size(), &found) == 0 && found && found->pw_name) {
      int n = 64;
      std::vector<gid_t> list(static_cast<std::size_t>(n));
      if (getgrouplist(found->pw_name, gid, list.data(), &n) == -1 && n > 64) {
        list.resize(static_cast<std::size_t>(n));
        getgrouplist(found->pw_name, gid, list.data(), &n);
      }
      list.resize(static_cast<std::size_t>(std::max(n, 0)));
      gids.insert(gids.end(), list.begin(), list.end());
    }
    std::set<gid_t> seen;
    for (gid_t g : gids) {
      if (!seen.insert(g).second) continue;
      group gr{};
      group* gfound = nullptr;
      std::vector<char> gbuf(16384);
      if (getgrgid_r(g, &gr, gbuf.data(), gbuf.size(), &gfound) == 0 && gfound && gfound->gr_name) {
        out.push_back(gfound->gr_name);
      }
    }
    return out;
  };
  return d;
}

AccessPolicy::AccessPolicy(ServerConfig config, uid_t owner_uid)
    : config_(std::move(config)), owner_uid_(owner_uid), directory_(system_directory()) {}

Result<Principal> AccessPolicy::admit(const PeerCredentials& peer) const {
  Principal p;
  p.peer = peer;
  p.user = directory_.user_name(peer.uid);
  if (p.user.empty()) p.user = fmt::format("uid:{}", peer.uid);
  p.groups = directory_.group_names(peer.uid, peer.gid);
  if (peer.uid == owner_uid_) {
    p.owner = true;
    p.trusted = true;
    p.all_roles = true;
    p.methods = {"*"};
    return p;
  }
  auto refuse = [&](std::string why) {
    return fail(Error(ErrorCode::kForbidden, std::move(why))
                    .with_data("principal", p.user)
                    .with_data("uid", static_cast<std::int64_t>(peer.uid)));
  };
  if (!config_.has_file) {
    return refuse(fmt::format(
        "user `{}` may not connect: without a configuration file only the server's owner may",
        p.user));
  }
  bool admitted = false;
  std::set<std::string> roles;
  std::set<std::string> methods;
  auto take = [&](const Grant& g) {
    admitted = true;
    for (const auto& r : g.roles) {
      if (r == "*") {
        p.all_roles = true;
      } else {
        roles.insert(r);
      }
    }
    methods.insert(g.methods.begin(), g.methods.end());
    p.trusted = p.trusted || g.trusted;
  };
  if (auto it = config_.access.users.find(p.user); it != config_.access.users.end()) {
    take(it->second);
  }
  for (const auto& g : p.groups) {
    if (auto it = config_.access.groups.find(g); it != config_.access.groups.end())
      take(it->second);
  }
  if (!admitted) {
    return refuse(fmt::format(
        "user `{}` may not connect: the server configuration has no entry for the user or any "
        "of its groups ({})",
        p.user,
        p.groups.empty() ? std::string("none") : fmt::format("{}", fmt::join(p.groups, ", "))));
  }
  p.roles.assign(roles.begin(), roles.end());
  p.methods.assign(methods.begin(), methods.end());
  return p;
}

}  // namespace flowgate::server
