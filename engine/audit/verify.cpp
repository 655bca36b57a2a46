#include "audit/verify.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <map>
#include <memory>
#include <set>

#include <fmt/format.h>

#include "audit/definitions.h"
#include "audit/fold.h"
#include "audit/fold_worker.h"
#include "audit/progress.h"
#include "definition/value.h"
#include "store/hash_chain.h"

namespace flowgate::audit {
namespace {

using nlohmann::json;

// A stored hash as text, kept inline (64 hex characters; anything longer never compares equal).
struct HashText {
  std::array<char, 64> text{};
  std::uint8_t size = 0;  // 65 = too long
  void set(std::string_view h) {
    size = h.size() > 64 ? 65 : static_cast<std::uint8_t>(h.size());
    std::memcpy(text.data(), h.data(), std::min<std::size_t>(h.size(), 64));
  }
  std::string_view view() const { return {text.data(), size > 64 ? 64u : std::size_t{size}}; }
  bool equals(std::string_view h) const { return size <= 64 && h == view(); }
};

// What verify remembers about one instance while it reads the log. The fields every event reads
// come first (one or two cache lines).
struct Tracker {
  std::string id;
  std::int64_t seq = 0;     // newest event seen
  std::int64_t events = 0;  // events seen
  HashText last;            // stored hash of the newest event seen
  bool has_row = false;
  bool row_missing = false;  // events without an instance row (reported with the first event)
  std::int64_t snap_last_seq = 0;
  // The first chain finding (index into findings) and a gap that may turn out to be a reordering.
  std::int64_t chain_finding = -1;
  std::int64_t gap_from = 0, gap_to = 0;  // seqs missing when the gap was seen
  int later_breaks = 0;
  std::int64_t rowid = 0;
  std::string snap_head;
  FoldSlot fold;  // the fold worker's until it finishes
};

// The trackers by instance id. Verify looks one up for every event, so the index is flat: open
// addressing over 8-byte slots (the id's hash tag and the tracker's number), the trackers in
// chunks that never move (a FoldSlot points to its tracker's id) and whose addresses sit in one
// small array. A node-based hash map's pointer chase cost a quarter of the reader thread's time at
// 100,000 instances; a deque (one tracker per block, the block map 4 MB at 500,000 instances)
// added a cache miss to every lookup.
class TrackerTable {
 public:
  Tracker* find(std::string_view id) { return find(id, instance_id_hash(id)); }
  // find() with the id's hash (instance_id_hash) already computed.
  Tracker* find(std::string_view id, std::uint64_t h) {
    if (slots_.empty()) return nullptr;
    for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
      const std::uint64_t slot = slots_[i];
      if (slot == 0) return nullptr;
      if ((slot >> 32) == (h >> 32)) {
        Tracker& t = at(static_cast<std::uint32_t>(slot) - 1);
        if (t.id == id) return &t;
      }
    }
  }
  // Starts loading the slot where find() with the hash `h` begins.
  void prefetch_slot(std::uint64_t h) const {
    if (!slots_.empty()) __builtin_prefetch(&slots_[h & mask_]);
  }
  // Starts loading the tracker that slot names, when it is the one (best called some time after
  // prefetch_slot, once the slot is loaded).
  void prefetch_tracker(std::uint64_t h) const {
    if (slots_.empty()) return;
    const std::uint64_t slot = slots_[h & mask_];
    if (slot == 0 || (slot >> 32) != (h >> 32)) return;
    const auto* t = reinterpret_cast<const char*>(&at(static_cast<std::uint32_t>(slot) - 1));
    __builtin_prefetch(t);
    __builtin_prefetch(t + 64);
    __builtin_prefetch(t + 128);
  }
  // The tracker of `id` (whose hash is `h`); created (second = true) when there is none.
  std::pair<Tracker*, bool> insert(std::string_view id, std::uint64_t h) {
    if (Tracker* t = find(id, h)) return {t, false};
    if ((count_ + 1) * 2 > slots_.size()) grow();
    if (count_ % kChunk == 0) chunks_.push_back(std::make_unique<Tracker[]>(kChunk));
    Tracker& t = at(count_++);
    t.id = std::string(id);
    t.fold.instance_id = &t.id;
    place(h, count_);
    return {&t, true};
  }
  std::pair<Tracker*, bool> insert(std::string_view id) { return insert(id, instance_id_hash(id)); }
  std::size_t size() const { return count_; }
  // Every tracker, ordered by id bytewise (as std::string_view compares); sorted again only when
  // trackers were added since. The sort compares the ids' first 16 bytes held inline, so that it
  // seldom reads a tracker: at 500,000 instances the pointer chase was most of its time.
  const std::vector<Tracker*>& by_id() {
    if (by_id_.size() == count_) return by_id_;
    struct Key {
      std::uint64_t hi, lo;
      Tracker* t;
    };
    std::vector<Key> keys;
    keys.reserve(count_);
    each([&](Tracker& t) { keys.push_back({prefix(t.id, 0), prefix(t.id, 8), &t}); });
    std::sort(keys.begin(), keys.end(), [](const Key& a, const Key& b) {
      if (a.hi != b.hi) return a.hi < b.hi;
      if (a.lo != b.lo) return a.lo < b.lo;
      return std::string_view(a.t->id) < std::string_view(b.t->id);
    });
    by_id_.clear();
    by_id_.reserve(keys.size());
    for (const Key& k : keys) by_id_.push_back(k.t);
    return by_id_;
  }
  // Calls fn(Tracker&) for every tracker, in the order they were created.
  template <class Fn>
  void each(Fn&& fn) {
    for (std::size_t k = 0; k < count_; ++k) fn(at(k));
  }

 private:
  static constexpr std::size_t kChunk = 1024;
  // Bytes [at, at + 8) of `id` as a big-endian number, zero past its end: numbers order as the
  // bytes do (equal ones are told apart by the whole ids).
  static std::uint64_t prefix(const std::string& id, std::size_t at) {
    std::uint64_t v = 0;
    for (std::size_t i = at; i < at + 8; ++i) {
      v = v << 8 | (i < id.size() ? static_cast<unsigned char>(id[i]) : 0u);
    }
    return v;
  }
  Tracker& at(std::size_t k) const { return chunks_[k / kChunk][k % kChunk]; }
  void place(std::uint64_t h, std::size_t number) {
    std::size_t i = h & mask_;
    while (slots_[i] != 0) i = (i + 1) & mask_;
    slots_[i] = (h >> 32) << 32 | number;
  }
  void grow() {
    const std::size_t n = slots_.empty() ? 1024 : slots_.size() * 2;
    slots_.assign(n, 0);
    mask_ = n - 1;
    for (std::size_t k = 0; k < count_; ++k) place(instance_id_hash(at(k).id), k + 1);
  }

  std::vector<std::unique_ptr<Tracker[]>> chunks_;
  std::size_t count_ = 0;
  std::vector<Tracker*> by_id_;
  std::vector<std::uint64_t> slots_;  // 0 = empty
  std::size_t mask_ = 0;
};

std::string short_hash(std::string_view h) {
  return h.size() > 12 ? std::string(h.substr(0, 12)) + "…" : std::string(h);
}

class Verifier {
 public:
  Verifier(AuditSource& source, const VerifyOptions& options, VerifyReport& report)
      : source_(source), options_(options), report_(report) {}

  Result<void> run() {
    auto stored = source_.definitions();
    if (!stored) return fail(stored.error());
    report_.definitions = static_cast<std::int64_t>(stored->size());
    defs_ = DefinitionSet::load(std::move(*stored), *options_.sections, report_.findings);
    definition_findings_ = report_.findings.size();

    auto heads = source_.each_instance_head([&](InstanceHead&& h) {
      Tracker& t = *trackers_.insert(h.instance_id).first;
      t.rowid = h.rowid;
      t.has_row = true;
      t.snap_last_seq = h.last_seq;
      t.snap_head = std::move(h.head_hash);
      t.fold.workflow_id = std::move(h.workflow_id);
      t.fold.version = h.version;
      ++report_.instances;
    });
    if (!heads) return fail(heads.error());

    auto cps = source_.checkpoints();
    if (!cps) return fail(cps.error());
    checkpoints_ = std::move(*cps);
    report_.checkpoints = static_cast<std::int64_t>(checkpoints_.size());
    if (source_.complete()) check_checkpoint_rows();

    auto total = source_.last_position();
    Progress progress("verify", total ? *total : 0,
                      options_.progress < 0 ? isatty_stderr() : options_.progress == 1);
    worker_ = std::make_unique<FoldWorker>(
        defs_, options_.hooks, options_.fold_thread,
        FoldCallbacks{
            [this](std::uint64_t h) { trackers_.prefetch_slot(h); },
            [this](std::uint64_t h) { trackers_.prefetch_tracker(h); },
            [this](const EventRow& row, std::uint64_t h) { return route(row, h); },
            [this](const CheckedEvent& e) { on_checked(*static_cast<Tracker*>(e.tag), e); }},
        options_.fold_batch_events);
    std::int64_t read = 0;
    Result<void> scanned;
    std::unique_ptr<AuditSource> events;  // read on a thread of their own
    if (options_.fold_thread && options_.read_thread) {
      auto second = source_.open_event_reader();
      if (second) events = std::move(*second);  // else read on this thread, as without one
    }
    if (events) {
      scanned = worker_->add_all(
          [&](const std::function<bool(const EventRow&)>& fn) { return events->each_event(fn); },
          [&](std::size_t n) {
            read += static_cast<std::int64_t>(n);
            progress.tick(read);
          });
    } else {
      scanned = source_.each_event([&](const EventRow& row) {
        worker_->add(row);
        progress.tick(++read);
        return true;
      });
    }
    progress.finish();
    worker_->finish();
    compare_ready();
    for (auto& f : worker_->take_findings()) add(std::move(f));
    if (!scanned) {
      if (scanned.error().code != ErrorCode::kNotADatabase) return fail(scanned.error());
      add({"database_damaged", "", 0, 0, "",
           "the events could not all be read: " + scanned.error().message});
    }
    while (next_checkpoint_ < due_checkpoints_.size()) evaluate_checkpoint();
    finish_instances();
    if (source_.complete()) check_numbering();
    note_unusable_definitions();
    return {};
  }

 private:
  static bool isatty_stderr() { return isatty(STDERR_FILENO) == 1; }

  void add(Finding f) { report_.findings.push_back(std::move(f)); }

  // Ids without gaps (AUTOINCREMENT never reuses one), positions and counts never decreasing;
  // which checkpoints are recomputed from the events.
  void check_checkpoint_rows() {
    std::int64_t expected = 1;
    const Checkpoint* prev = nullptr;
    for (const auto& cp : checkpoints_) {
      if (cp.id != expected) {
        add({"checkpoint_missing", "", 0, 0, "",
             cp.id > expected
                 ? fmt::format("checkpoint{} {} {} missing (checkpoint ids are never reused)",
                               cp.id - expected > 1 ? "s" : "",
                               cp.id - expected > 1 ? fmt::format("{}–{}", expected, cp.id - 1)
                                                    : std::to_string(expected),
                               cp.id - expected > 1 ? "are" : "is")
                 : fmt::format("checkpoint {} appears out of order", cp.id)});
      }
      if (prev && (cp.position < prev->position || cp.event_count < prev->event_count)) {
        add({"checkpoint_mismatch", "", 0, 0, "",
             fmt::format("checkpoint {} covers less than checkpoint {} before it (position {} < "
                         "{} or events {} < {})",
                         cp.id, prev->id, cp.position, prev->position, cp.event_count,
                         prev->event_count)});
      }
      expected = cp.id + 1;
      prev = &cp;
    }
    for (std::size_t i = 0; i < checkpoints_.size(); ++i) {
      if (options_.all_checkpoints || i + 1 == checkpoints_.size()) due_checkpoints_.push_back(i);
    }
  }

  // Each event's tracker (found before the worker folds the event into it).
  EventRoute route(const EventRow& row, std::uint64_t id_hash) {
    auto [t, created] = trackers_.insert(row.instance_id, id_hash);
    if (created) t->row_missing = true;
    return {t, options_.fold && t->has_row ? &t->fold : nullptr, row.seq == t->snap_last_seq};
  }

  // Every event in log order, once the worker has checked its content against its hash.
  void on_checked(Tracker& t, const CheckedEvent& e) {
    const EventRow& row = e.row;
    if (source_.complete()) {
      while (next_checkpoint_ < due_checkpoints_.size() &&
             row.position > checkpoints_[due_checkpoints_[next_checkpoint_]].position) {
        evaluate_checkpoint();
      }
      if (row.position != last_position_ + 1 && row.position > last_position_) {
        add({"events_missing", "", 0, row.position, "",
             last_position_ + 1 == row.position - 1
                 ? fmt::format("no event at position {}: it was deleted", last_position_ + 1)
                 : fmt::format("no events at positions {}–{}: they were deleted",
                               last_position_ + 1, row.position - 1)});
      }
      last_position_ = std::max(last_position_, row.position);
    }
    ++report_.events;
    if (t.row_missing) {
      t.row_missing = false;
      add({"instance_row_missing", std::string(row.instance_id), row.seq, row.position,
           std::string(row.type),
           "events are stored for this instance but its instance row is missing (deleted?)"});
    }
    check_chain(t, row, e.content_ok);
    ++t.events;
    t.seq = row.seq;
    t.last.set(row.hash);
    if ((report_.events & 0xfff) == 0) compare_ready();
  }

  void chain_finding(Tracker& t, const EventRow& row, std::string kind, std::string message) {
    if (t.chain_finding >= 0) {
      ++t.later_breaks;
      return;
    }
    t.chain_finding = static_cast<std::int64_t>(report_.findings.size());
    add({std::move(kind), std::string(row.instance_id), row.seq, row.position,
         std::string(row.type), std::move(message)});
  }

  void check_chain(Tracker& t, const EventRow& row, bool content_ok) {
    const bool anchor = t.events == 0 && !source_.complete();  // a filtered export starts anywhere
    const std::int64_t expected = t.seq + 1;
    if (!anchor && row.seq != expected) {
      if (row.seq > expected) {
        t.gap_from = expected;
        t.gap_to = row.seq - 1;
        chain_finding(
            t, row, "event_missing",
            t.events == 0
                ? fmt::format("the history begins at #{}: events #1–#{} are missing", row.seq,
                              row.seq - 1)
                : fmt::format("#{} follows #{}: event{} #{} {} missing (deleted?)", row.seq, t.seq,
                              row.seq - 1 > expected ? "s" : "",
                              row.seq - 1 > expected ? fmt::format("{}–#{}", expected, row.seq - 1)
                                                     : std::to_string(expected),
                              row.seq - 1 > expected ? "are" : "is"));
      } else if (t.chain_finding >= 0 && row.seq >= t.gap_from && row.seq <= t.gap_to &&
                 report_.findings[static_cast<std::size_t>(t.chain_finding)].kind ==
                     "event_missing") {
        // The "missing" events turn up later in the log: they were reordered.
        Finding& f = report_.findings[static_cast<std::size_t>(t.chain_finding)];
        f.kind = "events_reordered";
        f.message =
            fmt::format("#{} is stored before #{} (position {} < {}): events were reordered", f.seq,
                        row.seq, f.position, row.position);
        t.gap_from = t.gap_to = 0;
      } else {
        chain_finding(t, row, "events_reordered",
                      fmt::format("#{} comes after #{} (position {}): the event was inserted, "
                                  "duplicated or reordered",
                                  row.seq, t.seq, row.position));
      }
      return;
    }
    bool linked = true;
    if (!anchor) {
      if (t.events == 0) {
        linked = row.prev_hash.empty();
      } else {
        linked = t.last.equals(row.prev_hash);
      }
    }
    if (!linked) {
      chain_finding(t, row, "event_unlinked",
                    fmt::format("its prev_hash {} is not the hash of #{}: an event was inserted or "
                                "replaced here",
                                short_hash(row.prev_hash), row.seq - 1));
      return;
    }
    if (!content_ok) {
      chain_finding(t, row, "event_changed",
                    fmt::format("its content does not match its hash {}: the event was edited",
                                short_hash(row.hash)));
    }
  }

  // Compares the instances whose fold reached their newest event with their snapshots, once that
  // event was checked: every 4096 events checked and at the end, so the findings come in the same
  // order on any number of threads.
  void compare_ready() {
    for (FoldCompare& c : worker_->take_compares(report_.events)) {
      compare_snapshot(*c.slot, *c.state, c.seq);
    }
  }

  void compare_snapshot(const FoldSlot& slot, const FoldState& folded, std::int64_t seq) {
    const std::string& id = *slot.instance_id;
    const Tracker* found = trackers_.find(id);
    if (found == nullptr) return;
    const Tracker& t = *found;
    InstanceHead head{t.rowid, id, slot.workflow_id, slot.version, t.snap_last_seq, t.snap_head};
    if (auto text = source_.snapshot_text(head);
        text && *text && agrees_with_snapshot_text(folded, **text)) {
      return;
    }
    auto snap = source_.snapshot(head);
    if (!snap || !*snap) {
      add({"snapshot_unreadable", id, 0, 0, "",
           snap ? "the instance row disappeared while reading" : snap.error().message});
      return;
    }
    auto diffs = compare_with_snapshot(folded, "", **snap);
    if (!diffs.empty()) {
      add({"snapshot_mismatch", id, seq, 0, "",
           fmt::format("the snapshot disagrees with the events: {}", fmt::join(diffs, "; "))});
    }
  }

  void evaluate_checkpoint() {
    const Checkpoint& cp = checkpoints_[due_checkpoints_[next_checkpoint_++]];
    ++report_.checkpoints_recomputed;
    HeadsHasher hasher;
    std::int64_t n_instances = 0;
    for (const Tracker* t : trackers_.by_id()) {
      if (t->events == 0) continue;
      hasher.add(t->id, t->seq, t->last.view());
      ++n_instances;
    }
    std::string recomputed = hasher.finish();
    const std::int64_t n_events = report_.events;
    if (recomputed == cp.heads_hash && n_instances == cp.instance_count &&
        n_events == cp.event_count) {
      return;
    }
    std::string detail;
    if (n_instances != cp.instance_count) {
      detail += fmt::format("it covered {} instances, the events up to position {} belong to {}",
                            cp.instance_count, cp.position, n_instances);
    }
    if (n_events != cp.event_count) {
      detail += fmt::format("{}it counted {} events, {} remain up to position {}",
                            detail.empty() ? "" : "; ", cp.event_count, n_events, cp.position);
    }
    if (recomputed != cp.heads_hash) {
      detail += fmt::format("{}its heads hash {} is not reproduced by the events ({})",
                            detail.empty() ? "" : "; ", short_hash(cp.heads_hash),
                            short_hash(recomputed));
    }
    add({"checkpoint_mismatch", "", 0, cp.position, "",
         fmt::format("checkpoint {} (at {}) does not match the stored events: {}. Instances or "
                     "events it covered were deleted, truncated or rewritten",
                     cp.id, format_datetime_ms(cp.at_ms), detail)});
  }

  void finish_instances() {
    for (Tracker* t : trackers_.by_id()) {
      const std::string& id = t->id;
      if (t->chain_finding >= 0 && t->later_breaks > 0) {
        Finding& f = report_.findings[static_cast<std::size_t>(t->chain_finding)];
        f.message +=
            fmt::format(" ({} later event{} of this instance also fail{})", t->later_breaks,
                        t->later_breaks > 1 ? "s" : "", t->later_breaks > 1 ? "" : "s");
      }
      if (!t->has_row) continue;
      if (t->events == 0) {
        if (source_.complete()) {
          add({"instance_events_missing", id, 0, 0, "",
               fmt::format("its snapshot records {} events, none are stored: its history was "
                           "deleted",
                           t->snap_last_seq)});
        }
        continue;
      }
      if (t->seq != t->snap_last_seq || !t->last.equals(t->snap_head)) {
        std::string what =
            t->seq < t->snap_last_seq
                ? fmt::format(
                      "the stored history ends at #{}: events #{}–#{} were deleted "
                      "(truncated)",
                      t->seq, t->seq + 1, t->snap_last_seq)
            : t->seq > t->snap_last_seq
                ? fmt::format(
                      "the stored history goes on to #{}: events after #{} were added "
                      "without updating the instance",
                      t->seq, t->snap_last_seq)
                : fmt::format("the newest event's hash {} is not the recorded head {}",
                              short_hash(t->last.view()), short_hash(t->snap_head));
        add({"instance_head_mismatch", id, t->snap_last_seq < t->seq ? t->snap_last_seq + 1 : 0, 0,
             "",
             fmt::format("its snapshot records {} events with head {}; {}", t->snap_last_seq,
                         short_hash(t->snap_head), what)});
      }
      if (t->fold.state && !t->fold.done && !t->fold.failed) {
        compare_snapshot(t->fold, *t->fold.state, t->seq);
      }
    }
  }

  // Ids "<workflow>-<n>" are numbered by one counter per database and a number is used only when
  // its instance is committed, so every n up to meta.max_instance_number names an instance.
  void check_numbering() {
    // Instances other records still name: deleted, and known by name.
    std::set<std::string> named;
    if (auto dangling = source_.dangling_instance_references()) {
      for (const auto& id : *dangling) {
        if (trackers_.find(id) != nullptr) continue;
        named.insert(id);
        add({"instance_missing", id, 0, 0, "",
             "the instance and its events are gone, but idempotency records or timers still "
             "name it: it was deleted"});
      }
    }
    auto max = source_.max_instance_number();
    if (!max || *max <= 0 || *max > 100'000'000) return;
    std::vector<bool> present(static_cast<std::size_t>(*max) + 1, false);
    for (const auto& id : named) {
      auto dash = id.rfind('-');
      std::int64_t n = 0;
      if (dash != std::string::npos) {
        auto [p, ec] = std::from_chars(id.data() + dash + 1, id.data() + id.size(), n);
        if (ec == std::errc() && n >= 1 && n <= *max) present[static_cast<std::size_t>(n)] = true;
      }
    }
    trackers_.each([&](const Tracker& t) {
      const std::string& id = t.id;
      auto dash = id.rfind('-');
      if (dash == std::string::npos) return;
      std::int64_t n = 0;
      const char* b = id.data() + dash + 1;
      const char* e = id.data() + id.size();
      auto [p, ec] = std::from_chars(b, e, n);
      if (ec == std::errc() && p == e && n >= 1 && n <= *max)
        present[static_cast<std::size_t>(n)] = true;
    });
    std::vector<std::int64_t> missing;
    for (std::int64_t n = 1; n <= *max; ++n) {
      if (!present[static_cast<std::size_t>(n)]) missing.push_back(n);
    }
    constexpr std::size_t kListed = 20;
    for (std::size_t i = 0; i < missing.size() && i < kListed; ++i) {
      add({"instance_missing", fmt::format("*-{}", missing[i]), 0, 0, "",
           fmt::format("instance number {} is missing: the database numbered its instances up to "
                       "{} and a number is only used by a committed instance, so the instance "
                       "`<workflow>-{}` and its events were deleted",
                       missing[i], *max, missing[i])});
    }
    if (missing.size() > kListed) {
      add({"instance_missing", "", 0, 0, "",
           fmt::format("{} more instance numbers are missing", missing.size() - kListed)});
    }
  }

  void note_unusable_definitions() {
    for (std::size_t i = 0; i < definition_findings_; ++i) {
      Finding& f = report_.findings[i];
      for (const auto& [key, count] : worker_->unusable()) {
        if (f.message.find(fmt::format(" {} v{}", key.first, key.second)) != std::string::npos) {
          f.message += fmt::format(" ({} instance{} pinned to it could not be folded)", count,
                                   count > 1 ? "s" : "");
        }
      }
    }
  }

  AuditSource& source_;
  const VerifyOptions& options_;
  VerifyReport& report_;
  DefinitionSet defs_;
  std::size_t definition_findings_ = 0;
  TrackerTable trackers_;
  std::vector<Checkpoint> checkpoints_;
  std::vector<std::size_t> due_checkpoints_;
  std::size_t next_checkpoint_ = 0;
  std::int64_t last_position_ = 0;
  std::unique_ptr<FoldWorker> worker_;
};

}  // namespace

json VerifyReport::to_json() const {
  return {{"source", source},
          {"ok", ok()},
          {"definitions", definitions},
          {"instances", instances},
          {"events", events},
          {"checkpoints", checkpoints},
          {"checkpoints_recomputed", checkpoints_recomputed},
          {"page_checked", page_checked},
          {"findings", findings_to_json(findings)}};
}

Result<VerifyReport> verify(AuditSource& source, const VerifyOptions& options) {
  if (options.sections == nullptr) {
    return fail(ErrorCode::kInvalidArgument, "verify needs the section registry");
  }
  VerifyReport report;
  report.source = source.name();
  Verifier v(source, options, report);
  if (auto ok = v.run(); !ok) return fail(ok.error());
  return report;
}

Result<VerifyReport> verify_database(const std::string& path, const VerifyOptions& options) {
  auto db = AuditDb::open(path);
  if (!db) return fail(db.error());
  (*db)->set_read_pages(options.read_pages);
  std::vector<Finding> page_findings;
  bool checked = false;
  if (options.page_check) {
    auto problems = (*db)->page_check();
    if (!problems) return fail(problems.error());
    checked = true;
    for (const auto& p : *problems) {
      page_findings.push_back({"database_damaged", "", 0, 0, "", "SQLite page check: " + p});
    }
  }
  auto source = database_source(**db);
  auto report = verify(*source, options);
  if (!report) return report;
  report->page_checked = checked;
  report->findings.insert(report->findings.begin(), page_findings.begin(), page_findings.end());
  return report;
}

}  // namespace flowgate::audit
