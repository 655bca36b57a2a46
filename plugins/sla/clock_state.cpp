#include "plugins/sla/clock_state.h"

#include <algorithm>
#include <array>
#include <limits>

#include <fmt/format.h>

#include "definition/value.h"

namespace flowgate::sla {

using nlohmann::json;

namespace {

Error malformed(const std::string& what) {
  return Error(ErrorCode::kStorage, "malformed SLA clock state: " + what);
}

// Optional RFC 3339 instant under `key` (absent or null → nullopt).
Result<std::optional<std::int64_t>> read_instant(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::optional<std::int64_t>{};
  if (!it->is_string()) return fail(malformed(fmt::format("`{}` is not a date-time", key)));
  auto ms = parse_datetime_ms(it->get<std::string>());
  if (!ms) return fail(malformed(fmt::format("`{}` is not a date-time", key)));
  return std::optional<std::int64_t>(*ms);
}

Result<std::int64_t> read_int(const json& j, const char* key, std::int64_t fallback = 0) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  if (!it->is_number_integer()) return fail(malformed(fmt::format("`{}` is not an integer", key)));
  return it->get<std::int64_t>();
}

}  // namespace

// The stored form is a positional array (docs/sla.md §Events): millions of instances keep it in
// memory and in their snapshots, and every command reads it several times. Positions never move;
// new fields go at the end. Trailing fields at their default are left out; an absent optional
// instant, an empty target source and an empty warning list are null in the middle.
namespace {

enum Slot : std::size_t {
  kStatus,
  kCycle,
  kStartedAt,
  kTargetMs,
  kRunningSince,
  kPlannedBreach,
  kOriginalBreach,
  kTargetSource,
  kBusinessMs,
  kPausedMs,
  kPausedBusinessMs,
  kPauses,
  kFlags,
  kPausedAt,
  kBreachedAt,
  kEndedAt,
  kWarned,
  kRequestedAt,
  kSlotCount
};

constexpr std::int64_t kFlagBreached = 1;
constexpr std::int64_t kFlagMet = 2;

// Stable codes of the statuses in the stored form (independent of the enum's order).
constexpr std::array<ClockStatus, 5> kStatusCodes = {ClockStatus::kPending, ClockStatus::kRunning,
                                                     ClockStatus::kPaused, ClockStatus::kCompleted,
                                                     ClockStatus::kCancelled};

std::int64_t status_code(ClockStatus s) {
  for (std::size_t i = 0; i < kStatusCodes.size(); ++i) {
    if (kStatusCodes[i] == s) return static_cast<std::int64_t>(i);
  }
  return 0;
}

// An instant at 0 (the epoch) is a value; only an absent one (null) is its default.
bool is_default(const json& j, std::size_t slot) {
  constexpr std::array<std::size_t, 7> kInstants = {kRunningSince, kPlannedBreach, kOriginalBreach,
                                                    kPausedAt,     kBreachedAt,    kEndedAt,
                                                    kRequestedAt};
  if (j.is_null()) return true;
  bool instant = std::find(kInstants.begin(), kInstants.end(), slot) != kInstants.end();
  return !instant && j.is_number_integer() && j.get<std::int64_t>() == 0;
}

// The form written before the positional array: {"status": "running", "started_at_ms": ..., ...}.
// Still read, so snapshots written by earlier versions load.
Result<ClockState> from_object(const json& j) {
  ClockState s;
  auto status = parse_clock_status(j.value("status", std::string()));
  if (!status) return fail(malformed("unknown status"));
  s.status = *status;
  s.breached = j.value("breached", false);
  s.met = j.value("met", false);
  s.target_source = j.value("target_source", std::string());
  struct IntField {
    const char* key;
    std::int64_t* out;
  };
  std::int64_t cycle = 0, pauses = 0;
  for (IntField f :
       {IntField{"cycle", &cycle}, IntField{"started_at_ms", &s.started_at},
        IntField{"target_ms", &s.target_ms}, IntField{"business_ms", &s.business_ms},
        IntField{"paused_ms", &s.paused_ms}, IntField{"paused_business_ms", &s.paused_business_ms},
        IntField{"pauses", &pauses}}) {
    auto v = read_int(j, f.key);
    if (!v) return fail(v.error());
    *f.out = *v;
  }
  s.cycle = static_cast<int>(cycle);
  s.pauses = static_cast<int>(pauses);
  if (s.cycle > 0 && !j.contains("started_at_ms"))
    return fail(malformed("`started_at_ms` missing"));
  struct InstantField {
    const char* key;
    std::optional<std::int64_t>* out;
  };
  for (InstantField f :
       {InstantField{"requested_at_ms", &s.requested_at},
        InstantField{"running_since_ms", &s.running_since},
        InstantField{"paused_at_ms", &s.paused_at},
        InstantField{"planned_breach_ms", &s.planned_breach_at},
        InstantField{"original_breach_ms", &s.original_breach_at},
        InstantField{"breached_at_ms", &s.breached_at}, InstantField{"ended_at_ms", &s.ended_at}}) {
    auto it = j.find(f.key);
    if (it == j.end() || it->is_null()) continue;
    if (!it->is_number_integer())
      return fail(malformed(fmt::format("`{}` is not an integer", f.key)));
    *f.out = it->get<std::int64_t>();
  }
  if (auto it = j.find("warned"); it != j.end() && it->is_array()) {
    for (const json& p : *it) {
      if (!p.is_number_integer()) return fail(malformed("`warned` holds a non-integer"));
      s.warned.push_back(p.get<int>());
    }
  }
  return s;
}

}  // namespace

json ClockState::to_json() const {
  auto instant = [](const std::optional<std::int64_t>& v) { return v ? json(*v) : json(nullptr); };
  std::array<json, kSlotCount> slots = {json(status_code(status)),
                                        json(cycle),
                                        json(started_at),
                                        json(target_ms),
                                        instant(running_since),
                                        instant(planned_breach_at),
                                        instant(original_breach_at),
                                        target_source.empty() ? json(nullptr) : json(target_source),
                                        json(business_ms),
                                        json(paused_ms),
                                        json(paused_business_ms),
                                        json(pauses),
                                        json((breached ? kFlagBreached : 0) | (met ? kFlagMet : 0)),
                                        instant(paused_at),
                                        instant(breached_at),
                                        instant(ended_at),
                                        warned.empty() ? json(nullptr) : json(warned),
                                        instant(requested_at)};
  std::size_t n = slots.size();
  while (n > 1 && is_default(slots[n - 1], n - 1)) --n;
  // Sized exactly: the array lives in every cached instance.
  return json::array_t(std::make_move_iterator(slots.begin()),
                       std::make_move_iterator(slots.begin() + static_cast<std::ptrdiff_t>(n)));
}

Result<ClockState> ClockState::from_json(const json& j) {
  if (j.is_object()) return from_object(j);
  if (!j.is_array()) return fail(malformed("not an array"));
  const auto& a = j.get_ref<const json::array_t&>();
  if (a.empty() || a.size() > kSlotCount) return fail(malformed("wrong number of fields"));
  static const json kNull;
  auto at = [&](std::size_t slot) -> const json& { return slot < a.size() ? a[slot] : kNull; };
  auto integer = [&](std::size_t slot, std::int64_t& out) -> bool {
    const json& v = at(slot);
    if (v.is_null()) return true;
    if (!v.is_number_integer()) return false;
    out = v.get<std::int64_t>();
    return true;
  };
  auto instant = [&](std::size_t slot, std::optional<std::int64_t>& out) -> bool {
    const json& v = at(slot);
    if (v.is_null()) return true;
    if (!v.is_number_integer()) return false;
    out = v.get<std::int64_t>();
    return true;
  };
  ClockState s;
  std::int64_t code = -1, cycle = 0, pauses = 0, flags = 0;
  if (!integer(kStatus, code) || code < 0 || code >= static_cast<std::int64_t>(kStatusCodes.size()))
    return fail(malformed("unknown status"));
  s.status = kStatusCodes[static_cast<std::size_t>(code)];
  bool ok = integer(kCycle, cycle) && integer(kStartedAt, s.started_at) &&
            integer(kTargetMs, s.target_ms) && integer(kBusinessMs, s.business_ms) &&
            integer(kPausedMs, s.paused_ms) && integer(kPausedBusinessMs, s.paused_business_ms) &&
            integer(kPauses, pauses) && integer(kFlags, flags) &&
            instant(kRunningSince, s.running_since) &&
            instant(kPlannedBreach, s.planned_breach_at) &&
            instant(kOriginalBreach, s.original_breach_at) && instant(kPausedAt, s.paused_at) &&
            instant(kBreachedAt, s.breached_at) && instant(kEndedAt, s.ended_at) &&
            instant(kRequestedAt, s.requested_at);
  if (!ok) return fail(malformed("a field is not an integer"));
  if (cycle < 0 || cycle > std::numeric_limits<int>::max() || pauses < 0 ||
      pauses > std::numeric_limits<int>::max())
    return fail(malformed("cycle or pauses out of range"));
  s.cycle = static_cast<int>(cycle);
  s.pauses = static_cast<int>(pauses);
  s.breached = (flags & kFlagBreached) != 0;
  s.met = (flags & kFlagMet) != 0;
  if (const json& src = at(kTargetSource); src.is_string()) {
    s.target_source = src.get_ref<const std::string&>();
  } else if (!src.is_null()) {
    return fail(malformed("the target source is not a string"));
  }
  if (const json& w = at(kWarned); w.is_array()) {
    s.warned.reserve(w.size());
    for (const json& p : w) {
      if (!p.is_number_integer()) return fail(malformed("`warned` holds a non-integer"));
      s.warned.push_back(p.get<int>());
    }
  } else if (!w.is_null()) {
    return fail(malformed("`warned` is not a list"));
  }
  return s;
}

std::int64_t ClockState::elapsed_at(const BusinessCalendar& cal, std::int64_t at) const {
  return business_ms + (running_since ? cal.between(*running_since, at) : 0);
}

std::optional<std::int64_t> ClockState::due_at(const BusinessCalendar& cal, int percent) const {
  if (!running_since) return std::nullopt;
  // Integer arithmetic: the percentage of the target, floored to the millisecond.
  std::int64_t point = target_ms / 100 * percent + target_ms % 100 * percent / 100;
  return cal.add(*running_since, std::max<std::int64_t>(0, point - business_ms));
}

bool ClockState::has_warned(int percent) const {
  return std::find(warned.begin(), warned.end(), percent) != warned.end();
}

Result<ClockState> clock_state(const json& extra, const std::string& clock_id) {
  if (!extra.is_object()) return ClockState{};
  auto it = extra.find(clock_id);
  if (it == extra.end()) return ClockState{};
  return ClockState::from_json(*it);
}

Result<void> apply_clock_event(json& extra, const Event& e, std::int64_t at_ms) {
  const json& b = e.body;
  auto bad = [&](const std::string& why) {
    return fail(ErrorCode::kStorage, fmt::format("malformed event `{}`: {}", e.type, why));
  };
  if (!b.is_object() || !b.contains("clock") || !b["clock"].is_string()) return bad("no clock");
  const std::string id = b["clock"].get<std::string>();
  if (!extra.is_object()) extra = json::object();
  auto current = clock_state(extra, id);
  if (!current) return fail(current.error());
  ClockState s = std::move(*current);

  auto step = [&](ClockEvent ce) -> Result<void> {
    auto next = clock_step(s.status, ce);
    if (!next) {
      return bad(fmt::format("clock `{}` cannot {} while {}", id, clock_event_name(ce),
                             clock_status_name(s.status)));
    }
    s.status = *next;
    return {};
  };
  auto instant_of = [&](const char* key) { return read_instant(b, key); };
  auto int_of = [&](const char* key) { return read_int(b, key); };

  const std::string& type = e.type;
  if (type == event::kStartDeferred || type == event::kStartDropped) {
    if (is_open(s.status)) return bad("the clock is running");
    if (type == event::kStartDeferred) {
      auto at = instant_of("requested_at");
      if (!at || !*at) return bad("`requested_at` missing");
      s.requested_at = *at;
    } else {
      s.requested_at.reset();
    }
  } else if (type == event::kStarted) {
    if (auto ok = step(ClockEvent::kStart); !ok) return ok;
    auto cycle = int_of("cycle");
    auto started = instant_of("started_at");
    auto target = int_of("target_ms");
    auto planned = instant_of("planned_breach_at");
    if (!cycle || !started || !*started || !target || !planned) return bad("missing fields");
    ClockState next;
    next.status = s.status;
    next.cycle = static_cast<int>(*cycle);
    next.started_at = **started;
    next.target_ms = *target;
    next.target_source = b.value("target_source", std::string());
    next.running_since = **started;
    next.planned_breach_at = *planned;
    next.original_breach_at = *planned;
    s = std::move(next);
  } else if (type == event::kPaused) {
    if (auto ok = step(ClockEvent::kPause); !ok) return ok;
    auto elapsed = int_of("business_elapsed_ms");
    if (!elapsed) return fail(elapsed.error());
    s.business_ms = *elapsed;
    s.running_since.reset();
    s.paused_at = at_ms;
    s.planned_breach_at.reset();
    ++s.pauses;
  } else if (type == event::kResumed) {
    if (auto ok = step(ClockEvent::kResume); !ok) return ok;
    auto paused = int_of("paused_ms");
    auto paused_business = int_of("paused_business_ms");
    auto planned = instant_of("planned_breach_at");
    if (!paused || !paused_business || !planned) return bad("missing fields");
    s.paused_ms += *paused;
    s.paused_business_ms += *paused_business;
    s.paused_at.reset();
    s.running_since = at_ms;
    s.planned_breach_at = *planned;
  } else if (type == event::kRetargeted) {
    if (!is_open(s.status)) return bad("the clock is not running");
    auto target = int_of("target_ms");
    auto planned = instant_of("planned_breach_at");
    if (!target || !planned) return bad("missing fields");
    s.target_ms = *target;
    s.target_source = b.value("target_source", std::string());
    if (s.status == ClockStatus::kRunning) s.planned_breach_at = *planned;
  } else if (type == event::kWarning) {
    if (!is_open(s.status)) return bad("the clock is not running");
    auto pct = int_of("percent");
    if (!pct) return fail(pct.error());
    if (!s.has_warned(static_cast<int>(*pct))) s.warned.push_back(static_cast<int>(*pct));
  } else if (type == event::kBreached) {
    if (!is_open(s.status)) return bad("the clock is not running");
    s.breached = true;
    s.breached_at = at_ms;
  } else if (type == event::kCompleted || type == event::kCancelled || type == event::kReset) {
    ClockEvent ce = type == event::kCompleted   ? ClockEvent::kStop
                    : type == event::kCancelled ? ClockEvent::kCancel
                                                : ClockEvent::kReset;
    if (auto ok = step(ce); !ok) return ok;
    {
      auto elapsed = int_of("business_elapsed_ms");
      auto paused = int_of("paused_ms");
      auto paused_business = int_of("paused_business_ms");
      if (!elapsed || !paused || !paused_business) return bad("missing fields");
      s.business_ms = *elapsed;
      s.paused_ms = *paused;
      s.paused_business_ms = *paused_business;
      s.running_since.reset();
      s.paused_at.reset();
      s.ended_at = at_ms;
      s.breached = b.value("breached", s.breached);
      s.met = type == event::kCompleted && b.value("met", false);
    }
  } else if (type == event::kActionFailed) {
    // Recorded for the audit; the clock does not change.
  } else {
    return bad("unknown SLA event type");
  }
  extra[id] = s.to_json();
  return {};
}

}  // namespace flowgate::sla
