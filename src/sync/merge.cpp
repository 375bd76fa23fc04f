#include "sync/merge.h"

#include <algorithm>
#include <map>
#include <set>

#include "sync/fields.h"

namespace agendasync::sync {
namespace {

const FieldSpec& field_named(std::string_view name) {
  for (const auto& field : appointment_fields()) {
    if (name == field.name) return field;
  }
  std::abort();  // a broken invariant: the table names every field used here
}

/// The pattern and the time the occurrence ids derive from.
bool series_shape_equal(const Appointment& a, const Appointment& b) {
  if (a.recurrence.has_value() != b.recurrence.has_value()) return false;
  if (a.recurrence && !(a.recurrence->rule == b.recurrence->rule)) return false;
  return field_named("time").equal(a, b);
}

template <class T>
const T& pick(const T& base, const T& host, const T& remote, Side winner, bool& conflict) {
  conflict = false;
  if (remote == base) return host;
  if (host == base) return remote;
  if (host == remote) return host;
  conflict = true;
  return winner == Side::kHost ? host : remote;
}

std::set<Instant> as_set(const std::vector<Instant>& values) {
  return {values.begin(), values.end()};
}

std::map<Instant, OccurrenceOverride> by_id(const std::vector<OccurrenceOverride>& values) {
  std::map<Instant, OccurrenceOverride> map;
  for (const auto& value : values) map[value.recurrence_id] = value;
  return map;
}

/// Occurrence-level merge of a series whose pattern and time did not change on either side.
Recurrence merge_occurrences(const Recurrence& base, const Recurrence& host,
                             const Recurrence& remote, Side winner,
                             std::vector<std::string>& conflicts) {
  Recurrence merged;
  merged.rule = host.rule;

  // Deleted occurrences: base, plus what either side added, minus what either side restored.
  const auto base_ex = as_set(base.exdates), host_ex = as_set(host.exdates),
             remote_ex = as_set(remote.exdates);
  std::set<Instant> exdates;
  std::set<Instant> all_ex = base_ex;
  all_ex.insert(host_ex.begin(), host_ex.end());
  all_ex.insert(remote_ex.begin(), remote_ex.end());
  for (Instant id : all_ex) {
    const bool in_base = base_ex.contains(id);
    const bool kept = host_ex.contains(id) && remote_ex.contains(id);
    const bool added = (!in_base) && (host_ex.contains(id) || remote_ex.contains(id));
    const bool removed_by_one = in_base && !kept;
    if (kept || (added && !removed_by_one)) exdates.insert(id);
  }

  // Modified occurrences: three-way per recurrence id.
  const auto base_ov = by_id(base.overrides), host_ov = by_id(host.overrides),
             remote_ov = by_id(remote.overrides);
  std::set<Instant> ids;
  for (const auto* map : {&base_ov, &host_ov, &remote_ov}) {
    for (const auto& [id, value] : *map) ids.insert(id);
  }
  auto lookup = [](const auto& map, Instant id) -> std::optional<OccurrenceOverride> {
    auto found = map.find(id);
    if (found == map.end()) return std::nullopt;
    return found->second;
  };
  for (Instant id : ids) {
    const auto b = lookup(base_ov, id), h = lookup(host_ov, id), r = lookup(remote_ov, id);
    bool conflict = false;
    const auto& chosen = pick(b, h, r, winner, conflict);
    if (conflict) conflicts.push_back("occurrence " + render_instant(id));
    if (!chosen) continue;
    if (exdates.contains(id)) {
      // Modified on one side, deleted on the other: the winner's view decides.
      const bool winner_deleted =
          (winner == Side::kHost ? host_ex : remote_ex).contains(id) && !base_ex.contains(id);
      if (winner_deleted) continue;
      exdates.erase(id);
    }
    merged.overrides.push_back(*chosen);
  }
  merged.exdates.assign(exdates.begin(), exdates.end());
  return merged;
}

}  // namespace

MergeResult merge3(const std::optional<Appointment>& base, const Appointment& host,
                   const Appointment& remote, Side winner) {
  MergeResult result;
  Appointment& merged = result.merged;
  merged = host;
  for (const auto& field : appointment_fields()) {
    const std::string_view name = field.name;
    if (field.host_only || name == "recurrence") continue;  // host's already; recurrence below
    const bool host_changed = !base || !field.equal(*base, host);
    const bool remote_changed = !base || !field.equal(*base, remote);
    if (!remote_changed) continue;
    if (!host_changed || field.equal(host, remote)) {
      if (!field.equal(host, remote)) field.copy(merged, remote);
      continue;
    }
    result.conflicts.emplace_back(name);
    field.copy(merged, winner == Side::kHost ? host : remote);
  }

  // Recurrence, after "time": the occurrence merge is only safe when the series shape stayed.
  const auto& recurrence = field_named("recurrence");
  if (recurrence.equal(host, remote)) return result;
  const bool host_shape = !base || !series_shape_equal(*base, host);
  const bool remote_shape = !base || !series_shape_equal(*base, remote);
  if (!host_shape && !remote_shape && host.recurrence && remote.recurrence) {
    merged.recurrence = merge_occurrences(*base->recurrence, *host.recurrence, *remote.recurrence,
                                          winner, result.conflicts);
    return result;
  }
  const bool host_changed = !base || !recurrence.equal(*base, host);
  const bool remote_changed = !base || !recurrence.equal(*base, remote);
  if (host_shape && !remote_shape) {
    merged.recurrence = host.recurrence;
  } else if (remote_shape && !host_shape) {
    merged.recurrence = remote.recurrence;
  } else if (host_changed && remote_changed) {
    result.conflicts.emplace_back("recurrence");
    merged.recurrence = winner == Side::kHost ? host.recurrence : remote.recurrence;
  } else {
    merged.recurrence = host_changed ? host.recurrence : remote.recurrence;
  }
  // The series time travels with its recurrence when one side reshaped the series.
  if (merged.recurrence == remote.recurrence && remote_shape && !host_shape) {
    field_named("time").copy(merged, remote);
  }
  return result;
}

}  // namespace agendasync::sync
