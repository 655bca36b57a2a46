// Shared by the store tests: a temporary directory that is removed afterwards, and builders for
// definitions, instances and hash-chained events that make consistent batches.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>

#include <fmt/format.h>

#include "store/hash_chain.h"
#include "store/store.h"

namespace flowgate::store_test {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "flowgate-store-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

inline std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline std::string file_digest(const std::string& path) { return sha256_hex(read_bytes(path)); }

inline StoreOptions writer_options(const std::string& path) {
  StoreOptions o;
  o.path = path;
  o.busy_timeout_ms = 200;
  return o;
}

inline StoreOptions reader_options(const std::string& path) {
  StoreOptions o = writer_options(path);
  o.read_only = true;
  return o;
}

inline StoredDefinition definition(const std::string& workflow_id, int version,
                                   const std::string& extra = "") {
  StoredDefinition d;
  d.workflow_id = workflow_id;
  d.version = version;
  d.source_text = fmt::format(
      "[workflow]\nid = \"{}\"\nname = \"{}\"\nversion = {}\n"
      "initial = \"open\"\n{}",
      workflow_id, workflow_id, version, extra);
  d.content_hash = sha256_hex(d.source_text);
  d.file = "workflows/" + workflow_id + ".toml";
  d.loaded_ms = 1'700'000'000'000;
  return d;
}

// Builds batches whose events chain correctly, as the engine's writer would.
class BatchBuilder {
 public:
  explicit BatchBuilder(std::int64_t now_ms = 1'700'000'000'000) : now_(now_ms) {}

  // Starts a new instance (one "instance_started" event and its snapshot).
  BatchBuilder& start(const std::string& instance_id, const std::string& workflow_id,
                      const std::string& business_key = "") {
    InstanceSnapshot s;
    s.instance_id = instance_id;
    s.workflow_id = workflow_id;
    s.version = 1;
    s.state = "open";
    s.lifecycle = "active";
    s.data = {{"amount", "100.00"}, {"region", "EMEA"}};
    s.business_key = business_key;
    s.created_ms = now_;
    snapshots_[instance_id] = s;
    return append(instance_id, "instance_started", {{"state", "open"}});
  }

  // Appends one "transitioned" event to an instance started earlier (in any batch of this
  // builder), moving it to `to`.
  BatchBuilder& transition(const std::string& instance_id, const std::string& to) {
    auto& s = snapshots_.at(instance_id);
    nlohmann::json body = {{"from", s.state}, {"to", to}, {"event", "advance"}};
    s.state = to;
    return append(instance_id, "transitioned", std::move(body));
  }

  BatchBuilder& request(const std::string& request_id, const std::string& instance_id) {
    RequestRecord r;
    r.request_id = request_id;
    r.fingerprint = sha256_hex("command " + request_id);
    r.instance_id = instance_id;
    r.response = {{"ok", true}, {"instance", instance_id}};
    r.at_ms = now_;
    batch_.requests.push_back(std::move(r));
    return *this;
  }

  BatchBuilder& timer(const std::string& timer_id, const std::string& instance_id,
                      std::int64_t due_ms) {
    batch_.timers_put.push_back(TimerRecord{timer_id, instance_id, due_ms, {{"kind", "sla"}}});
    return *this;
  }

  BatchBuilder& cancel_timer(const std::string& timer_id) {
    batch_.timers_delete.push_back(timer_id);
    return *this;
  }

  // The batch so far (with the current snapshot of every instance it touched); starts a new one.
  WriteBatch take() {
    for (const auto& id : touched_) batch_.instances.push_back(snapshots_.at(id));
    touched_.clear();
    WriteBatch out = std::move(batch_);
    batch_ = WriteBatch{};
    ++now_;
    return out;
  }

  const InstanceSnapshot& snapshot(const std::string& id) const { return snapshots_.at(id); }

 private:
  BatchBuilder& append(const std::string& instance_id, std::string type, nlohmann::json body) {
    auto& s = snapshots_.at(instance_id);
    EventRecord e;
    e.instance_id = instance_id;
    e.seq = s.last_seq + 1;
    e.at_ms = now_;
    e.type = std::move(type);
    e.actor = {{"principal", "alice"}, {"roles", {"AR"}}};
    e.body = std::move(body);
    e.request_id = fmt::format("req-{}-{}", instance_id, e.seq);
    e.prev_hash = s.head_hash;
    e.hash = compute_event_hash(e.prev_hash, e);
    s.last_seq = e.seq;
    s.head_hash = e.hash;
    s.updated_ms = now_;
    if (std::find(touched_.begin(), touched_.end(), instance_id) == touched_.end()) {
      touched_.push_back(instance_id);
    }
    batch_.events.push_back(std::move(e));
    return *this;
  }

  std::int64_t now_;
  WriteBatch batch_;
  std::map<std::string, InstanceSnapshot> snapshots_;
  std::vector<std::string> touched_;
};

}  // namespace flowgate::store_test
