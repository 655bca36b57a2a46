// For tests that forge a history an attacker would: after editing events of an instance, recompute
// its whole hash chain and its instance row's head, so that the chain itself verifies and only the
// checkpoints (or replay) can tell.
#pragma once

#include <SQLiteCpp/SQLiteCpp.h>

#include <string>

#include <nlohmann/json.hpp>

#include "store/hash_chain.h"

namespace flowgate::testing {

inline void rechain(SQLite::Database& db, const std::string& instance_id) {
  SQLite::Statement q(db,
                      "SELECT position, seq, at_ms, type, actor, body FROM events WHERE "
                      "instance_id = ? ORDER BY seq");
  q.bind(1, instance_id);
  std::string prev;
  std::int64_t last = 0;
  while (q.executeStep()) {
    EventRecord e;
    e.instance_id = instance_id;
    e.seq = q.getColumn(1).getInt64();
    e.at_ms = q.getColumn(2).getInt64();
    e.type = q.getColumn(3).getString();
    e.actor = nlohmann::json::parse(q.getColumn(4).getString());
    e.body = nlohmann::json::parse(q.getColumn(5).getString());
    std::string hash = compute_event_hash(prev, e);
    SQLite::Statement u(db, "UPDATE events SET prev_hash = ?, hash = ? WHERE position = ?");
    u.bind(1, prev);
    u.bind(2, hash);
    u.bind(3, q.getColumn(0).getInt64());
    u.exec();
    prev = hash;
    last = e.seq;
  }
  SQLite::Statement h(db, "UPDATE instances SET head_hash = ?, last_seq = ? WHERE instance_id = ?");
  h.bind(1, prev);
  h.bind(2, last);
  h.bind(3, instance_id);
  h.exec();
}

}  // namespace flowgate::testing
