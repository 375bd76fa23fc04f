// Series expansion. libical generates the original starts as wall-clock times in the
// series' own zone; each is converted to UTC on its own, so 09:00 in Amsterdam stays 09:00
// across DST. All-day series are generated as dates and never pass through a zone.
// libical is used in this file only.
#include "core/expand.h"

#include <libical/ical.h>

#include <algorithm>
#include <deque>
#include <limits>
#include <map>
#include <memory>
#include <set>

#include "core/time_zone.h"

namespace agendasync {
namespace {

using std::chrono::days;
using std::chrono::sys_days;

/// Hard stop for walking a finite series from its start (last_occurrence_start): far above
/// any real series (Exchange caps numbered series at 999), low enough to bound the work.
constexpr long kMaxWalk = 2'000'000;

icaltimetype to_ical(std::chrono::local_seconds local, bool is_date) {
  auto day_start = std::chrono::floor<days>(local);
  std::chrono::year_month_day date{day_start};
  std::chrono::hh_mm_ss time{local - day_start};
  icaltimetype out = icaltime_null_time();
  out.year = static_cast<int>(date.year());
  out.month = static_cast<int>(static_cast<unsigned>(date.month()));
  out.day = static_cast<int>(static_cast<unsigned>(date.day()));
  if (is_date) {
    out.is_date = 1;
  } else {
    out.hour = static_cast<int>(time.hours().count());
    out.minute = static_cast<int>(time.minutes().count());
    out.second = static_cast<int>(time.seconds().count());
  }
  return out;
}

std::chrono::local_seconds from_ical(const icaltimetype& t) {
  std::chrono::year_month_day date{std::chrono::year(t.year),
                                   std::chrono::month(static_cast<unsigned>(t.month)),
                                   std::chrono::day(static_cast<unsigned>(t.day))};
  auto at = std::chrono::local_days(date) + std::chrono::hours(t.is_date ? 0 : t.hour) +
            std::chrono::minutes(t.is_date ? 0 : t.minute) +
            std::chrono::seconds(t.is_date ? 0 : t.second);
  return at;
}

struct IteratorDeleter {
  void operator()(icalrecur_iterator* it) const { icalrecur_iterator_free(it); }
};

/// How a rule is handed to libical 3.0.16 (Debian 12), with its known gaps worked around.
/// Each workaround is pinned by corpus cases and the dateutil cross-check in tests/model.
struct LibicalPlan {
  RecurrenceRule rule;                ///< what libical runs: no COUNT/UNTIL, lists deduplicated
  std::vector<int> month_day_filter;  ///< DAILY with a negative BYMONTHDAY: filtered here
  std::vector<int> weekly_set_pos;    ///< WEEKLY with BYSETPOS: selected here, per week
  int week_interval = 1;              ///< WEEKLY with INTERVAL > 1: weeks picked here
};

template <class T>
void dedupe_in_order(std::vector<T>& values) {
  std::vector<T> out;
  for (const auto& v : values) {
    if (std::find(out.begin(), out.end(), v) == out.end()) out.push_back(v);
  }
  values = std::move(out);
}

LibicalPlan plan_for(const RecurrenceRule& rule) {
  LibicalPlan plan{rule, {}, {}, 1};
  plan.rule.count.reset();
  plan.rule.until.reset();
  // A repeated BYDAY entry makes libical repeat the instance (libical issue 945).
  dedupe_in_order(plan.rule.by_day);
  dedupe_in_order(plan.rule.by_month_day);
  dedupe_in_order(plan.rule.by_month);
  dedupe_in_order(plan.rule.by_set_pos);
  const bool has_ordinal = std::any_of(rule.by_day.begin(), rule.by_day.end(),
                                       [](const WeekdayNum& d) { return d.ordinal != 0; });
  // YEARLY;BYMONTHDAY without BYMONTH means those days of every month (RFC 5545, dateutil);
  // libical 3.0.16 takes only DTSTART's month. Naming all months is the same rule.
  if (rule.freq == Frequency::kYearly && !rule.by_month_day.empty() && rule.by_month.empty() &&
      !has_ordinal) {
    plan.rule.by_month = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  }
  // libical 3.0.16 drops negative BYMONTHDAY values in DAILY rules; there they only filter.
  if (rule.freq == Frequency::kDaily &&
      std::any_of(rule.by_month_day.begin(), rule.by_month_day.end(),
                  [](int d) { return d < 0; })) {
    plan.month_day_filter = plan.rule.by_month_day;
    plan.rule.by_month_day.clear();
  }
  // libical 3.0.16 counts WEEKLY intervals in Sunday-based weeks whatever WKST says; it runs
  // every week and the weeks are picked here, counted from DTSTART's week by WKST.
  if (rule.freq == Frequency::kWeekly && rule.interval > 1) {
    plan.week_interval = rule.interval;
    plan.rule.interval = 1;
  }
  // libical 3.0.16 applies BYSETPOS in WEEKLY rules to the wrong set.
  if (rule.freq == Frequency::kWeekly && !rule.by_set_pos.empty() && !rule.by_day.empty()) {
    plan.weekly_set_pos = plan.rule.by_set_pos;
    plan.rule.by_set_pos.clear();
  }
  return plan;
}

unsigned days_in_month(std::chrono::year_month_day date) {
  return static_cast<unsigned>((date.year() / date.month() / std::chrono::last).day());
}

bool matches_month_day(std::chrono::local_seconds at, const std::vector<int>& month_days) {
  std::chrono::year_month_day date{std::chrono::floor<days>(at)};
  const int day = static_cast<int>(static_cast<unsigned>(date.day()));
  const int length = static_cast<int>(days_in_month(date));
  return std::any_of(month_days.begin(), month_days.end(), [&](int wanted) {
    return wanted > 0 ? wanted == day : length + wanted + 1 == day;
  });
}

/// The first day of the week holding `at`, for weeks starting on `week_start`.
std::chrono::local_days week_of(std::chrono::local_seconds at, std::chrono::weekday week_start) {
  const auto day = std::chrono::floor<days>(at);
  const unsigned offset =
      (std::chrono::weekday(day).c_encoding() + 7 - week_start.c_encoding()) % 7;
  return day - days(offset);
}

/// The original starts of a series, in order, with COUNT and UNTIL applied here (libical
/// gets the rule without them: UNTIL is an instant and only we know the zone).
class OriginalStarts {
 public:
  static Result<OriginalStarts> create(const Appointment& item) {
    const RecurrenceRule& rule = item.recurrence->rule;
    if (auto checked = check_rule(rule); !checked) return std::unexpected(checked.error());
    LibicalPlan plan = plan_for(rule);
    const std::string text = format_rrule(plan.rule);
    icalrecurrencetype recur = icalrecurrencetype_from_string(text.c_str());
    if (recur.freq == ICAL_NO_RECURRENCE) {
      icalerror_clear_errno();
      return fail(ErrorKind::kInvalidData, "recurrence rule '" + text + "' cannot be expanded");
    }
    OriginalStarts starts(item, std::move(plan));
    if (item.all_day) {
      starts.first_local_ = std::chrono::local_seconds(item.start.time_since_epoch());
    } else {
      auto local = to_local(item.start, item.time_zone);
      if (!local) return std::unexpected(local.error());
      starts.first_local_ = *local;
    }
    // Set positions count from the first day of DTSTART's week, so libical starts there;
    // with BYDAY given, the week's days do not depend on DTSTART's weekday.
    std::chrono::local_seconds libical_start = starts.first_local_;
    if (!starts.plan_.weekly_set_pos.empty()) {
      libical_start = starts.week_start_time(starts.first_local_);
    }
    starts.iterator_.reset(icalrecur_iterator_new(recur, to_ical(libical_start, item.all_day)));
    if (!starts.iterator_) {
      icalerror_clear_errno();
      return fail(ErrorKind::kInvalidData,
                  "recurrence rule '" + format_rrule(rule) + "' can never occur");
    }
    return starts;
  }

  /// Skips ahead to about `at` (never past an original start at or after it). Only for
  /// rules without COUNT: counting needs every occurrence from the first.
  Result<void> skip_to(Instant at) {
    if (count_) return {};
    std::chrono::local_seconds local(at.time_since_epoch());
    if (!all_day_) {
      auto converted = to_local(at, zone_);
      if (!converted) return std::unexpected(converted.error());
      local = *converted;
    }
    if (!plan_.weekly_set_pos.empty()) local = week_start_time(local);
    icalrecur_iterator_set_start(iterator_.get(), to_ical(local, all_day_));
    return {};
  }

  /// The next original start, or nullopt when the series has ended.
  Result<std::optional<Instant>> next() {
    if (count_ && produced_ >= *count_) return std::nullopt;
    auto local = next_local();
    if (!local) return std::nullopt;
    Instant start;
    if (all_day_) {
      start = Instant(local->time_since_epoch());
    } else {
      auto converted = to_utc(*local, zone_);
      if (!converted) return std::unexpected(converted.error());
      start = *converted;
    }
    if (until_ && start > *until_) return std::nullopt;
    ++produced_;
    return start;
  }

 private:
  OriginalStarts(const Appointment& item, LibicalPlan plan)
      : all_day_(item.all_day),
        zone_(item.time_zone),
        count_(item.recurrence->rule.count),
        until_(item.recurrence->rule.until),
        plan_(std::move(plan)) {}

  /// A filter that never matches must not spin for ever: after this many candidates in a
  /// row without an occurrence (some 55 years of days) the series counts as ended.
  static constexpr int kMaxBarrenCandidates = 20'000;

  std::chrono::local_seconds week_start_time(std::chrono::local_seconds at) const {
    const auto time_of_day = first_local_ - std::chrono::floor<days>(first_local_);
    return std::chrono::local_seconds(week_of(at, plan_.rule.week_start)) + time_of_day;
  }

  /// WEEKLY;INTERVAL=n: only every n-th week, counted from DTSTART's week.
  bool in_interval_week(std::chrono::local_seconds at) const {
    const auto weeks =
        (week_of(at, plan_.rule.week_start) - week_of(first_local_, plan_.rule.week_start))
            .count() /
        7;
    return weeks % plan_.week_interval == 0;
  }

  std::optional<std::chrono::local_seconds> pull() {
    icaltimetype t = icalrecur_iterator_next(iterator_.get());
    if (icaltime_is_null_time(t)) return std::nullopt;
    return from_ical(t);
  }

  /// Reads one week of libical's candidates and keeps the BYSETPOS ones. False at the end.
  bool fill_week() {
    auto first = lookahead_ ? lookahead_ : pull();
    lookahead_.reset();
    if (!first) return false;
    const auto week = week_of(*first, plan_.rule.week_start);
    std::vector<std::chrono::local_seconds> candidates{*first};
    while (auto t = pull()) {
      if (week_of(*t, plan_.rule.week_start) != week) {
        lookahead_ = t;
        break;
      }
      candidates.push_back(*t);
    }
    std::sort(candidates.begin(), candidates.end());
    candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
    std::set<std::chrono::local_seconds> chosen;
    const auto size = static_cast<int>(candidates.size());
    for (int pos : plan_.weekly_set_pos) {
      const int index = pos > 0 ? pos - 1 : size + pos;
      if (index >= 0 && index < size) chosen.insert(candidates[static_cast<std::size_t>(index)]);
    }
    ready_.insert(ready_.end(), chosen.begin(), chosen.end());
    return true;
  }

  std::optional<std::chrono::local_seconds> next_candidate() {
    if (plan_.weekly_set_pos.empty()) return pull();
    while (ready_.empty()) {
      if (!fill_week()) return std::nullopt;
    }
    auto t = ready_.front();
    ready_.pop_front();
    return t;
  }

  /// The next wall-clock start after the workarounds' filters, in strictly rising order.
  std::optional<std::chrono::local_seconds> next_local() {
    for (int barren = 0; barren < kMaxBarrenCandidates; ++barren) {
      auto t = next_candidate();
      if (!t) return std::nullopt;
      if (*t < first_local_) continue;
      if (last_local_ && *t <= *last_local_) continue;
      if (!plan_.month_day_filter.empty() && !matches_month_day(*t, plan_.month_day_filter)) {
        continue;
      }
      if (plan_.week_interval > 1 && !in_interval_week(*t)) continue;
      last_local_ = t;
      return t;
    }
    return std::nullopt;
  }

  bool all_day_;
  std::string zone_;
  std::optional<int> count_;
  std::optional<Instant> until_;
  LibicalPlan plan_;
  std::chrono::local_seconds first_local_{};
  std::optional<std::chrono::local_seconds> last_local_;
  std::optional<std::chrono::local_seconds> lookahead_;
  std::deque<std::chrono::local_seconds> ready_;
  int produced_ = 0;
  std::unique_ptr<icalrecur_iterator, IteratorDeleter> iterator_;
};

/// [start, end) overlaps [from, to); an instant item (start == end) overlaps when inside.
bool overlaps(Instant start, Instant end, Instant from, Instant to) {
  if (start == end) return start >= from && start < to;
  return start < to && end > from;
}

/// Whether the rule itself produces `original` (before EXDATEs and overrides).
Result<bool> is_original_start(const Appointment& item, Instant original) {
  auto starts = OriginalStarts::create(item);
  if (!starts) return std::unexpected(starts.error());
  if (!item.recurrence->rule.count && original > item.start + days(2)) {
    if (auto skipped = starts->skip_to(original - days(1)); !skipped) {
      return std::unexpected(skipped.error());
    }
  }
  while (true) {
    auto next = starts->next();
    if (!next) return std::unexpected(next.error());
    if (!*next || **next > original) return false;
    if (**next == original) return true;
  }
}

}  // namespace

Result<std::vector<Occurrence>> expand(const Appointment& item, Instant from, Instant to,
                                       std::size_t limit) {
  std::vector<Occurrence> out;
  if (item.end < item.start) {
    return fail(ErrorKind::kInvalidData, "the item ends before it starts");
  }
  if (!item.recurrence) {
    if (limit > 0 && overlaps(item.start, item.end, from, to)) {
      out.push_back(Occurrence{item.start, item.start, item.end, false});
    }
    return out;
  }
  const auto duration = item.end - item.start;
  const Recurrence& recurrence = *item.recurrence;
  const std::set<Instant> deleted(recurrence.exdates.begin(), recurrence.exdates.end());
  std::map<Instant, const OccurrenceOverride*> moved;
  for (const auto& change : recurrence.overrides) moved[change.recurrence_id] = &change;
  // Every override must be visited even when it lies outside the window: it may have been
  // moved into it.
  const Instant last_override = moved.empty() ? Instant::min() : moved.rbegin()->first;

  auto starts = OriginalStarts::create(item);
  if (!starts) return std::unexpected(starts.error());
  // Skipping ahead keeps far-future windows cheap; a day of margin covers zone offsets.
  // Compared without subtracting from `from`: callers may pass Instant::min(). COUNT needs
  // every occurrence from the first, so such series are always walked from the start.
  Instant walk_from = item.start;
  if (!item.recurrence->rule.count && from > item.start + duration + days(2)) {
    walk_from = from - duration - days(1);
    if (auto skipped = starts->skip_to(walk_from); !skipped) {
      return std::unexpected(skipped.error());
    }
  }
  // Occurrences before the walk are not visited, but may have been moved into the window.
  for (const auto& [original, change] : moved) {
    if (original >= walk_from) break;
    if (deleted.contains(original) || !overlaps(change->start, change->end, from, to)) continue;
    auto real = is_original_start(item, original);
    if (!real) return std::unexpected(real.error());
    if (*real) out.push_back(Occurrence{original, change->start, change->end, true});
  }

  std::size_t plain_in_window = 0;
  while (true) {
    auto next = starts->next();
    if (!next) return std::unexpected(next.error());
    if (!*next) break;
    const Instant original = **next;
    const bool overrides_done = original > last_override;
    if (original >= to && overrides_done) break;
    if (plain_in_window >= limit && overrides_done) break;
    if (deleted.contains(original)) continue;
    auto change = moved.find(original);
    if (change != moved.end()) {
      const OccurrenceOverride& o = *change->second;
      if (overlaps(o.start, o.end, from, to)) {
        out.push_back(Occurrence{original, o.start, o.end, true});
      }
    } else if (overlaps(original, original + duration, from, to)) {
      out.push_back(Occurrence{original, original, original + duration, false});
      ++plain_in_window;
    }
  }
  std::sort(out.begin(), out.end(), [](const Occurrence& a, const Occurrence& b) {
    return a.start != b.start ? a.start < b.start : a.recurrence_id < b.recurrence_id;
  });
  if (out.size() > limit) out.resize(limit);
  return out;
}

Result<std::optional<Instant>> last_occurrence_start(const Appointment& item) {
  if (!item.recurrence) return std::optional<Instant>(item.start);
  const RecurrenceRule& rule = item.recurrence->rule;
  if (!rule.count && !rule.until) return std::optional<Instant>();
  const Recurrence& recurrence = *item.recurrence;
  const std::set<Instant> deleted(recurrence.exdates.begin(), recurrence.exdates.end());
  std::map<Instant, Instant> moved;
  for (const auto& change : recurrence.overrides) moved[change.recurrence_id] = change.start;

  auto starts = OriginalStarts::create(item);
  if (!starts) return std::unexpected(starts.error());
  std::optional<Instant> last_original;
  std::optional<Instant> latest_remaining;
  for (long walked = 0;; ++walked) {
    if (walked >= kMaxWalk) {
      return fail(ErrorKind::kInvalidData, "recurrence '" + format_rrule(rule) +
                                               "' has more than " + std::to_string(kMaxWalk) +
                                               " occurrences; shorten it with COUNT or UNTIL");
    }
    auto next = starts->next();
    if (!next) return std::unexpected(next.error());
    if (!*next) break;
    const Instant original = **next;
    last_original = original;
    if (deleted.contains(original)) continue;
    auto change = moved.find(original);
    const Instant start = change == moved.end() ? original : change->second;
    if (!latest_remaining || start > *latest_remaining) latest_remaining = start;
  }
  // A series whose every occurrence was deleted has still ended: report its last original
  // start rather than nullopt, which would mean "endless".
  if (latest_remaining) return latest_remaining;
  if (last_original) return last_original;
  return std::optional<Instant>(item.start);
}

}  // namespace agendasync
