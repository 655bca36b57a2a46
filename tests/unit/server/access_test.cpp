// Who may connect and what they get: the owner, configured users and groups, everyone else.
#include <catch2/catch.hpp>

#include <algorithm>

#include "server/access.h"

using namespace flowgate;
using namespace flowgate::server;

namespace {

constexpr uid_t kOwner = 1000;
constexpr uid_t kCrm = 1001;
constexpr uid_t kDora = 1002;
constexpr uid_t kMallory = 1003;

AccessPolicy policy(bool with_config) {
  ServerConfig c;
  if (with_config) {
    auto parsed =
        load_server_config(std::string(FLOWGATE_SOURCE_DIR) + "/tests/fixtures/server/access.toml");
    REQUIRE(parsed);
    c = *parsed;
  }
  AccessPolicy p(c, kOwner);
  AccessPolicy::Directory d;
  d.user_name = [](uid_t uid) -> std::string {
    switch (uid) {
      case kOwner:
        return "flowgate";
      case kCrm:
        return "crm";
      case kDora:
        return "dora";
      case kMallory:
        return "mallory";
      default:
        return "";
    }
  };
  d.group_names = [](uid_t uid, gid_t) -> std::vector<std::string> {
    if (uid == kDora) return {"dora", "directors", "audit"};
    return {"users"};
  };
  p.set_directory(d);
  return p;
}

}  // namespace

TEST_CASE("the owner may call everything, holds every declared role and is trusted", "[access]") {
  auto p = policy(false).admit({kOwner, 100, 42});
  REQUIRE(p);
  CHECK(p->owner);
  CHECK(p->trusted);
  CHECK(p->user == "flowgate");
  CHECK(p->may_call("clock.advance"));
  CHECK(p->effective_roles({"AR", "director"}) == std::vector<std::string>{"AR", "director"});
}

TEST_CASE("without a configuration nobody but the owner may connect", "[access]") {
  auto p = policy(false).admit({kCrm, 100, 43});
  REQUIRE_FALSE(p);
  CHECK(p.error().code == ErrorCode::kForbidden);
  CHECK(p.error().message.find("user `crm` may not connect") == 0);
  CHECK(p.error().data["principal"] == "crm");
}

TEST_CASE("a configured user gets its roles and methods", "[access]") {
  auto p = policy(true).admit({kCrm, 100, 44});
  REQUIRE(p);
  CHECK_FALSE(p->owner);
  CHECK(p->trusted);
  CHECK(p->roles == std::vector<std::string>{"AR", "SR"});
  CHECK(p->may_call("instance.fire"));
  CHECK(p->may_call("workflow.list"));
  CHECK_FALSE(p->may_call("workflow.load"));
  CHECK_FALSE(p->may_call("clock.advance"));
}

TEST_CASE("a user in several configured groups gets their union and is not trusted", "[access]") {
  auto p = policy(true).admit({kDora, 100, 45});
  REQUIRE(p);
  CHECK(p->roles == std::vector<std::string>{"director"});
  CHECK(p->may_call("instance.fire"));
  CHECK(p->may_call("instance.list"));  // from the audit group
  CHECK(p->may_call("events.watch"));   // events.* from the audit group
  CHECK_FALSE(p->may_call("instance.start"));
  CHECK_FALSE(p->trusted);
}

TEST_CASE("a user with no entry for itself or its groups is refused when connecting", "[access]") {
  auto p = policy(true).admit({kMallory, 100, 46});
  REQUIRE_FALSE(p);
  CHECK(p.error().code == ErrorCode::kForbidden);
  CHECK(p.error().message.find("mallory") != std::string::npos);
}

TEST_CASE("a uid without a name is known as uid:N", "[access]") {
  auto p = policy(true).admit({4242, 100, 47});
  REQUIRE_FALSE(p);
  CHECK(p.error().data["principal"] == "uid:4242");
}

TEST_CASE("roles = [\"*\"] grants every role the workflows declare", "[access]") {
  auto c = parse_server_config("[users.crm]\nroles = [\"*\"]\nmethods = [\"*\"]\n", "c.toml");
  REQUIRE(c);
  AccessPolicy policy(*c, kOwner);
  AccessPolicy::Directory d;
  d.user_name = [](uid_t) { return std::string("crm"); };
  d.group_names = [](uid_t, gid_t) { return std::vector<std::string>{}; };
  policy.set_directory(d);
  auto p = policy.admit({kCrm, 1, 1});
  REQUIRE(p);
  CHECK(p->effective_roles({"SR", "AR"}) == std::vector<std::string>{"AR", "SR"});
}
