#include "sync/offboard.h"

#include <fmt/format.h>

#include <unordered_map>

namespace agendasync::sync {

Result<OffboardReport> offboard(CalendarSide& remote, SyncState& state, AuditSink& audit,
                                const std::string& pair_id, Instant now) {
  OffboardReport report;
  auto links = state.all_links();
  if (!links) return std::unexpected(links.error());
  std::unordered_map<ItemRef, IdempotencyKey> ours;
  std::vector<ItemRef> refs;
  for (const auto& link : *links) {
    if (link.created_on == Side::kRemote && !link.sides[Side::kRemote].ref.empty()) {
      ours[link.sides[Side::kRemote].ref] = link.key;
      refs.push_back(link.sides[Side::kRemote].ref);
    } else {
      ++report.kept;
    }
  }
  auto current = remote.fetch(refs);
  if (!current) return std::unexpected(current.error());
  std::vector<SideItem> doomed;
  for (auto& item : *current) {
    // The item must still carry our key: proof the sync made it, not just linked it.
    if (item.idempotency_key && *item.idempotency_key == ours.at(item.ref)) {
      doomed.push_back(std::move(item));
    } else {
      ++report.kept;
    }
  }
  // Interrupted creates (R28) may have left an item the status never recorded.
  auto pending = state.pending_journal();
  if (!pending) return std::unexpected(pending.error());
  for (const auto& entry : *pending) {
    if (entry.op != WriteOp::kCreate || entry.target != Side::kRemote) continue;
    auto found = remote.find_by_key(entry.key);
    if (!found) return std::unexpected(found.error());
    if (*found && !ours.contains((*found)->ref)) doomed.push_back(std::move(**found));
  }
  std::vector<Write> writes;
  for (const auto& item : doomed) {
    Write write;
    write.op = WriteOp::kDelete;
    write.ref = item.ref;
    write.expected = item.version;
    write.previous = item.item;
    writes.push_back(std::move(write));
  }
  const auto results = writes.empty() ? std::vector<WriteResult>{} : remote.apply(writes);
  std::vector<AuditRecord> records;
  const std::string run_id = fmt::format("{}-offboard-{}", pair_id, now.time_since_epoch().count());
  for (std::size_t i = 0; i < writes.size(); ++i) {
    const bool done =
        i < results.size() &&
        (results[i].outcome || results[i].outcome.error().kind == ErrorKind::kNotFound);
    if (!done) {
      report.errors.push_back(
          fmt::format("could not remove {} from {}: {}; run the cleanup again", writes[i].ref.str(),
                      remote.describe(),
                      i < results.size() ? results[i].outcome.error().message : "no result"));
      continue;
    }
    ++report.deleted;
    records.push_back({run_id, now, pair_id, Side::kRemote, writes[i].ref.str(),
                       doomed[i].idempotency_key ? doomed[i].idempotency_key->str() : "", "delete",
                       "R40 offboarding removes what the sync created",
                       diff(*writes[i].previous, Appointment{}, false)});
  }
  if (!records.empty()) {
    if (auto recorded = audit.record(records); !recorded) return std::unexpected(recorded.error());
  }
  if (report.errors.empty()) {
    if (auto cleared = state.clear(); !cleared) return std::unexpected(cleared.error());
  }
  return report;
}

}  // namespace agendasync::sync
