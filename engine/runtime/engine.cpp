#include "runtime/engine.h"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <list>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>

#include "definition/loader.h"
#include "runtime/decide.h"
#include "runtime/instance.h"
#include "store/hash_chain.h"

namespace flowgate {
namespace {

using nlohmann::json;

// Least-recently-used cache of instance states; owned by the writer thread only.
class InstanceCache {
 public:
  explicit InstanceCache(std::size_t capacity) : capacity_(capacity) {}
  const InstanceState* find(const std::string& id) {
    auto it = index_.find(id);
    if (it == index_.end()) return nullptr;
    order_.splice(order_.begin(), order_, it->second);
    return &*it->second;
  }
  void put(InstanceState s) {
    auto it = index_.find(s.id);
    if (it != index_.end()) {
      *it->second = std::move(s);
      order_.splice(order_.begin(), order_, it->second);
      return;
    }
    order_.push_front(std::move(s));
    index_.emplace(order_.front().id, order_.begin());
    while (index_.size() > capacity_ && !order_.empty()) {
      index_.erase(order_.back().id);
      order_.pop_back();
    }
  }
  std::size_t size() const { return index_.size(); }

 private:
  std::size_t capacity_;
  std::list<InstanceState> order_;
  std::unordered_map<std::string, std::list<InstanceState>::iterator> index_;
};

struct Pending {
  Command command;
  std::promise<Result<CommandOutcome>> promise;
};

// What one group commit accumulates before it is made durable.
struct BatchContext {
  std::int64_t now_ms = 0;
  WriteBatch batch;
  std::unordered_map<std::string, InstanceState> overlay;       // working copies, by id
  std::unordered_map<std::string, std::string> overlay_version; // id → workflow version key
  std::unordered_map<std::string, RequestRecord> requests;      // by request id
  std::unordered_map<std::string, std::string> new_keys;        // "wf\x1fkey" → instance id
  std::vector<std::string> dirty;                               // changed ids, first-change order
  std::unordered_set<std::string> dirty_set;
  std::vector<std::pair<std::size_t, std::size_t>> event_ranges;// per command: [begin, end)
  std::vector<Result<CommandOutcome>> answers;
  std::int64_t next_instance_number = 0;
};

}  // namespace

struct Engine::Impl {
  EngineOptions options;
  std::shared_ptr<Catalog> catalog;
  std::shared_ptr<const Clock> clock;
  const SectionRegistry* sections = nullptr;
  std::unique_ptr<Store> writer_store;  // writer thread only (and open/stop)

  std::mutex mu;
  std::condition_variable cv;
  std::deque<Pending> queue;
  bool stopping = false;
  std::thread writer;

  std::mutex readers_mu;
  std::vector<std::unique_ptr<Store>> readers;

  InstanceCache cache{100000};
  std::int64_t instance_counter = 0;
  std::int64_t events_since_checkpoint = 0;

  std::atomic<std::uint64_t> n_commands{0}, n_refused{0}, n_batches{0}, n_events{0};

  // --- reader connections -------------------------------------------------------------------
  Result<std::unique_ptr<Store>> acquire_reader() {
    {
      std::lock_guard lock(readers_mu);
      if (!readers.empty()) {
        auto s = std::move(readers.back());
        readers.pop_back();
        return s;
      }
    }
    StoreOptions o;
    o.path = options.db_path;
    o.read_only = true;
    o.busy_timeout_ms = options.busy_timeout_ms;
    return Store::open(o);
  }
  void release_reader(std::unique_ptr<Store> s) {
    std::lock_guard lock(readers_mu);
    if (readers.size() < 16) readers.push_back(std::move(s));
  }
  template <typename F>
  auto with_reader(F&& f) -> decltype(f(std::declval<Store&>())) {
    auto r = acquire_reader();
    if (!r) return fail(r.error());
    auto out = f(**r);
    release_reader(std::move(*r));
    return out;
  }

  // --- definitions --------------------------------------------------------------------------
  Result<std::shared_ptr<const Workflow>> workflow_on(Store& store, const std::string& id,
                                                      int version) {
    if (auto wf = catalog->get(id, version)) return wf;
    auto def = store.get_definition(id, version);
    if (!def) return fail(def.error());
    if (!*def) {
      return fail(ErrorCode::kVersionNotFound,
                  fmt::format("workflow `{}` has no version {}", id, version));
    }
    LoadResult r = load_workflow_text((*def)->source_text, (*def)->file, *sections);
    if (!r.ok()) {
      return fail(ErrorCode::kInvalidDefinition,
                  fmt::format("stored definition {} v{} no longer loads: {}", id, version,
                              r.diagnostics.items().empty()
                                  ? std::string("unknown error")
                                  : r.diagnostics.items().front().to_string()));
    }
    catalog->add(r.workflow);
    return r.workflow;
  }

  // --- the writer ---------------------------------------------------------------------------
  void run_writer() {
    std::vector<Pending> work;
    for (;;) {
      {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return stopping || !queue.empty(); });
        if (queue.empty() && stopping) break;
        std::size_t n = std::min(queue.size(), options.max_batch);
        work.clear();
        work.reserve(n);
        for (std::size_t i = 0; i < n; ++i) {
          work.push_back(std::move(queue.front()));
          queue.pop_front();
        }
      }
      process_batch(work);
    }
    if (events_since_checkpoint > 0) (void)writer_store->write_checkpoint(clock->now_ms());
  }

  void process_batch(std::vector<Pending>& work) {
    BatchContext ctx;
    ctx.now_ms = clock->now_ms();
    ctx.next_instance_number = instance_counter;
    ctx.answers.reserve(work.size());
    for (auto& p : work) {
      std::size_t begin = ctx.batch.events.size();
      ctx.answers.push_back(process_command(p.command, ctx));
      ctx.event_ranges.emplace_back(begin, ctx.batch.events.size());
    }
    for (const auto& id : ctx.dirty) {
      const InstanceState& s = ctx.overlay.at(id);
      auto wf = catalog->get(s.workflow_id, s.version);
      ctx.batch.instances.push_back(to_snapshot(s, *wf));
    }
    for (auto& [rid, rec] : ctx.requests) ctx.batch.requests.push_back(std::move(rec));

    Result<std::vector<std::int64_t>> positions = std::vector<std::int64_t>{};
    if (!ctx.batch.empty()) positions = writer_store->commit(ctx.batch);
    n_batches.fetch_add(1, std::memory_order_relaxed);
    if (!positions) {
      // Nothing of the batch is durable: answer every command with the storage error, keep the
      // cache as it was (working copies are dropped).
      for (auto& p : work) p.promise.set_value(fail(positions.error()));
      return;
    }
    instance_counter = ctx.next_instance_number;
    for (auto& [id, s] : ctx.overlay) cache.put(std::move(s));
    for (std::size_t i = 0; i < positions->size(); ++i) {
      ctx.batch.events[i].position = (*positions)[i];
    }
    events_since_checkpoint += static_cast<std::int64_t>(ctx.batch.events.size());
    n_events.fetch_add(ctx.batch.events.size(), std::memory_order_relaxed);
    if (events_since_checkpoint >= options.checkpoint_every) {
      if (writer_store->write_checkpoint(ctx.now_ms)) events_since_checkpoint = 0;
    }
    for (std::size_t i = 0; i < work.size(); ++i) {
      Result<CommandOutcome>& answer = ctx.answers[i];
      if (answer && !answer->replayed) {
        auto [b, e] = ctx.event_ranges[i];
        answer->events.assign(ctx.batch.events.begin() + static_cast<std::ptrdiff_t>(b),
                              ctx.batch.events.begin() + static_cast<std::ptrdiff_t>(e));
      }
      n_commands.fetch_add(1, std::memory_order_relaxed);
      if (!answer) n_refused.fetch_add(1, std::memory_order_relaxed);
      work[i].promise.set_value(std::move(answer));
    }
  }

  // Looks up an instance: this batch's working copy, the cache, then the store.
  Result<InstanceState*> load_instance(const std::string& id, BatchContext& ctx) {
    if (auto it = ctx.overlay.find(id); it != ctx.overlay.end()) return &it->second;
    if (const InstanceState* cached = cache.find(id)) {
      return &ctx.overlay.emplace(id, *cached).first->second;
    }
    auto snap = writer_store->get_instance(id);
    if (!snap) return fail(snap.error());
    if (!*snap) {
      return fail(Error(ErrorCode::kInstanceNotFound, fmt::format("no instance `{}`", id))
                      .with_data("instance_id", id));
    }
    auto wf = workflow_on(*writer_store, (*snap)->workflow_id, (*snap)->version);
    if (!wf) return fail(wf.error());
    auto state = from_snapshot(**snap, **wf);
    if (!state) return fail(state.error());
    return &ctx.overlay.emplace(id, std::move(*state)).first->second;
  }

  // Remembers the answer for the request id (if any) and passes it through.
  Result<CommandOutcome> answer(const Command& c, Result<CommandOutcome> result,
                                const std::string& instance_id, BatchContext& ctx) {
    if (!c.request_id.empty()) {
      // Storage failures are not answers: the command did not happen and may be retried.
      bool storage_failure = !result && static_cast<int>(result.error().code) >= 500;
      if (!storage_failure) {
        RequestRecord rec;
        rec.request_id = c.request_id;
        rec.fingerprint = c.fingerprint();
        rec.instance_id = instance_id;
        rec.at_ms = ctx.now_ms;
        rec.response = result ? json{{"result", result->instance}}
                              : json{{"error", result.error().to_json()}};
        ctx.requests[c.request_id] = std::move(rec);
      }
    }
    return result;
  }

  Result<CommandOutcome> replay_answer(const Command& c, const RequestRecord& rec) {
    if (rec.fingerprint != c.fingerprint()) {
      return fail(Error(ErrorCode::kDuplicateRequest,
                        fmt::format("request id `{}` was already used for a different command",
                                    c.request_id))
                      .with_hint("use a new request id for a new command")
                      .with_data("instance_id", rec.instance_id));
    }
    if (rec.response.contains("error")) return fail(Error::from_json(rec.response["error"]));
    CommandOutcome out;
    out.instance = rec.response.value("result", json::object());
    out.replayed = true;
    return out;
  }

  Result<CommandOutcome> process_command(Command& c, BatchContext& ctx) {
    if (!c.request_id.empty()) {
      if (auto it = ctx.requests.find(c.request_id); it != ctx.requests.end()) {
        return replay_answer(c, it->second);
      }
      auto rec = writer_store->find_request(c.request_id);
      if (!rec) return fail(rec.error());
      if (*rec) return replay_answer(c, **rec);
    }

    std::shared_ptr<const Workflow> wf;
    InstanceState* current = nullptr;
    std::string instance_id = c.instance_id;
    if (c.kind == CommandKind::kStart) {
      if (c.version) {
        wf = catalog->get(c.workflow_id, *c.version);
        if (!wf && catalog->latest(c.workflow_id)) {
          auto stored = workflow_on(*writer_store, c.workflow_id, *c.version);
          if (!stored) return answer(c, fail(stored.error()), "", ctx);
          wf = *stored;
        }
      } else {
        wf = catalog->latest(c.workflow_id);
      }
      if (!wf) {
        if (!catalog->latest(c.workflow_id)) {
          auto ids = catalog->ids();
          return answer(c,
                        fail(Error(ErrorCode::kWorkflowNotFound,
                                   fmt::format("no workflow `{}`", c.workflow_id))
                                 .with_hint(fmt::format("known workflows: {}", fmt::join(ids, ", ")))
                                 .with_data("workflows", ids)),
                        "", ctx);
        }
        return answer(c, fail(ErrorCode::kVersionNotFound,
                              fmt::format("workflow `{}` has no version {}", c.workflow_id,
                                          c.version.value_or(0))),
                      "", ctx);
      }
      if (!c.business_key.empty()) {
        std::string key = c.workflow_id + '\x1f' + c.business_key;
        std::optional<std::string> existing;
        if (auto it = ctx.new_keys.find(key); it != ctx.new_keys.end()) {
          existing = it->second;
        } else {
          auto found = writer_store->find_business_key(c.workflow_id, c.business_key);
          if (!found) return fail(found.error());
          existing = *found;
        }
        if (existing) {
          return answer(c,
                        fail(Error(ErrorCode::kDuplicateBusinessKey,
                                   fmt::format("workflow `{}` already has an instance with business "
                                               "key `{}`: {}",
                                               c.workflow_id, c.business_key, *existing))
                                 .with_data("instance_id", *existing)),
                        *existing, ctx);
        }
      }
    } else {
      auto loaded = load_instance(c.instance_id, ctx);
      if (!loaded) {
        if (loaded.error().code == ErrorCode::kInstanceNotFound) {
          return answer(c, fail(loaded.error()), c.instance_id, ctx);
        }
        return fail(loaded.error());
      }
      current = *loaded;
      auto pinned = workflow_on(*writer_store, current->workflow_id, current->version);
      if (!pinned) return fail(pinned.error());
      wf = *pinned;
      if (c.expect_version && *c.expect_version != current->last_seq) {
        return answer(c,
                      fail(Error(ErrorCode::kVersionConflict,
                                 fmt::format("instance {} is at version {}, the command expected "
                                             "version {}",
                                             current->id, current->last_seq, *c.expect_version))
                               .with_hint("reload the instance and decide again")
                               .with_data("current_version", current->last_seq)
                               .with_data("expected_version", *c.expect_version)),
                      c.instance_id, ctx);
      }
    }

    std::shared_ptr<const Workflow> target;
    if (c.kind == CommandKind::kMigrate) {
      auto t = workflow_on(*writer_store, wf->id, c.to_version);
      if (!t) return answer(c, fail(t.error()), c.instance_id, ctx);
      target = *t;
    }

    auto decided = decide(DecideInput{*wf, current, c, ctx.now_ms, target.get()});
    if (!decided) return answer(c, fail(decided.error()), instance_id, ctx);

    InstanceState next;
    if (current) {
      next = *current;
    } else {
      next.id = fmt::format("{}-{}", wf->id, ctx.next_instance_number + 1);
      instance_id = next.id;
    }
    std::vector<EventRecord> records;
    const Workflow* applied_on = wf.get();
    for (Event& ev : *decided) {
      if (ev.type == events::kMigrated) applied_on = target.get();
      if (auto ok = apply(next, ev, *applied_on, ctx.now_ms); !ok) {
        return answer(c, fail(ErrorCode::kInternal, "decide produced an event apply refused: " +
                                                        ok.error().message),
                      instance_id, ctx);
      }
      EventRecord rec;
      rec.instance_id = next.id;
      rec.seq = next.last_seq;
      rec.at_ms = ctx.now_ms;
      rec.type = std::move(ev.type);
      rec.actor = c.actor.to_json();
      rec.body = std::move(ev.body);
      rec.request_id = c.request_id;
      rec.prev_hash = next.head_hash;
      rec.hash = compute_event_hash(rec.prev_hash, rec);
      next.head_hash = rec.hash;
      records.push_back(std::move(rec));
    }
    if (c.kind == CommandKind::kStart) {
      ++ctx.next_instance_number;
      if (!c.business_key.empty()) ctx.new_keys[c.workflow_id + '\x1f' + c.business_key] = next.id;
    }
    CommandOutcome out;
    out.instance = instance_view(to_snapshot(next, *applied_on));
    if (!records.empty()) {
      if (ctx.dirty_set.insert(next.id).second) ctx.dirty.push_back(next.id);
      ctx.overlay[next.id] = std::move(next);
      for (auto& r : records) ctx.batch.events.push_back(std::move(r));
    }
    return answer(c, std::move(out), instance_id, ctx);
  }
};

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Engine::~Engine() { stop(); }

Result<std::unique_ptr<Engine>> Engine::open(const EngineOptions& options,
                                             std::shared_ptr<Catalog> catalog,
                                             std::shared_ptr<const Clock> clock,
                                             const SectionRegistry& sections) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->catalog = std::move(catalog);
  impl->clock = std::move(clock);
  impl->sections = &sections;
  impl->cache = InstanceCache(options.cache_capacity);

  StoreOptions so;
  so.path = options.db_path;
  so.read_only = options.read_only;
  so.create = !options.read_only;
  so.synchronous_full = options.synchronous_full;
  so.busy_timeout_ms = options.busy_timeout_ms;
  so.max_page_count = options.max_page_count;
  auto store = Store::open(so);
  if (!store) return fail(store.error());
  impl->writer_store = std::move(*store);
  if (options.read_only) {
    impl->stopping = true;  // submit() refuses; reads use their own connections
    return std::unique_ptr<Engine>(new Engine(std::move(impl)));
  }

  for (const auto& wf : impl->catalog->all()) {
    StoredDefinition def{wf->id, wf->version, wf->content_hash, wf->source_text, wf->file,
                         impl->clock->now_ms()};
    if (auto ok = impl->writer_store->put_definition(def); !ok) return fail(ok.error());
  }
  auto count = impl->writer_store->max_instance_number();
  if (!count) return fail(count.error());
  impl->instance_counter = *count;

  Impl* raw = impl.get();
  raw->writer = std::thread([raw] { raw->run_writer(); });
  return std::unique_ptr<Engine>(new Engine(std::move(impl)));
}

std::future<Result<CommandOutcome>> Engine::submit(Command command) {
  Pending p{std::move(command), {}};
  auto fut = p.promise.get_future();
  {
    std::lock_guard lock(impl_->mu);
    if (impl_->stopping) {
      p.promise.set_value(fail(ErrorCode::kUnavailable,
                               impl_->options.read_only ? "the engine was opened read-only"
                                                        : "the engine is stopping"));
      return fut;
    }
    impl_->queue.push_back(std::move(p));
  }
  impl_->cv.notify_one();
  return fut;
}

void Engine::stop() {
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopping = true;
  }
  impl_->cv.notify_all();
  if (impl_->writer.joinable()) impl_->writer.join();
}

Result<json> Engine::get(const std::string& instance_id) {
  return impl_->with_reader([&](Store& s) -> Result<json> {
    auto snap = s.get_instance(instance_id);
    if (!snap) return fail(snap.error());
    if (!*snap) {
      return fail(Error(ErrorCode::kInstanceNotFound, fmt::format("no instance `{}`", instance_id))
                      .with_data("instance_id", instance_id));
    }
    json view = instance_view(**snap);
    auto wf = impl_->workflow_on(s, (*snap)->workflow_id, (*snap)->version);
    if (wf) {
      auto state = from_snapshot(**snap, **wf);
      if (state) view["allowed_events"] = allowed_events(**wf, *state);
    }
    return view;
  });
}

Result<std::vector<json>> Engine::list(const InstanceFilter& filter) {
  return impl_->with_reader([&](Store& s) -> Result<std::vector<json>> {
    auto rows = s.list_instances(filter);
    if (!rows) return fail(rows.error());
    std::vector<json> out;
    out.reserve(rows->size());
    for (const auto& r : *rows) out.push_back(instance_view(r));
    return out;
  });
}

Result<std::vector<EventRecord>> Engine::history(const std::string& instance_id) {
  return impl_->with_reader([&](Store& s) -> Result<std::vector<EventRecord>> {
    auto snap = s.get_instance(instance_id);
    if (!snap) return fail(snap.error());
    if (!*snap) {
      return fail(Error(ErrorCode::kInstanceNotFound, fmt::format("no instance `{}`", instance_id))
                      .with_data("instance_id", instance_id));
    }
    return s.history(instance_id);
  });
}

Result<std::shared_ptr<const Workflow>> Engine::workflow(const std::string& id, int version) {
  return impl_->with_reader(
      [&](Store& s) -> Result<std::shared_ptr<const Workflow>> { return impl_->workflow_on(s, id, version); });
}

const Catalog& Engine::catalog() const { return *impl_->catalog; }
const Clock& Engine::clock() const { return *impl_->clock; }

EngineStats Engine::stats() const {
  EngineStats s;
  s.commands = impl_->n_commands.load();
  s.refused = impl_->n_refused.load();
  s.batches = impl_->n_batches.load();
  s.events = impl_->n_events.load();
  std::lock_guard lock(impl_->mu);
  s.queue_depth = impl_->queue.size();
  return s;
}

}  // namespace flowgate
