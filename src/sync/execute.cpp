// The executor half of SyncEngine: journal, batched writes, per-link status, audit, commit.
#include <fmt/format.h>

#include <map>

#include "sync/engine.h"
#include "sync/failures.h"
#include "sync/identity.h"

namespace agendasync::sync {
namespace {

struct WriteOpView {
  Side target;
  Write write;
  std::string operation;
};

/// The CalendarSide write for a planned operation; nullopt for bookkeeping operations.
std::optional<WriteOpView> as_write(const Operation& operation) {
  if (const auto* op = std::get_if<CreateOp>(&operation)) {
    Write write;
    write.op = WriteOp::kCreate;
    write.key = op->link;
    write.item = op->item;
    write.send_invitations = op->send_invitations;
    return WriteOpView{op->target, std::move(write), "create"};
  }
  if (const auto* op = std::get_if<UpdateOp>(&operation)) {
    Write write;
    write.op = WriteOp::kUpdate;
    write.ref = op->ref;
    write.expected = op->expected;
    write.item = op->item;
    write.previous = op->previous;
    write.send_invitations = op->send_invitations;
    if (op->stamp_key) write.key = op->link;
    return WriteOpView{op->target, std::move(write), "update"};
  }
  if (const auto* op = std::get_if<StampKeyOp>(&operation)) {
    Write write;
    write.op = WriteOp::kStampKey;
    write.ref = op->ref;
    write.expected = op->expected;
    write.key = op->link;
    write.item = op->item;
    write.previous = op->item;  // nothing but the key differs
    return WriteOpView{op->target, std::move(write), "stamp key"};
  }
  if (const auto* op = std::get_if<DeleteOp>(&operation)) {
    Write write;
    write.op = WriteOp::kDelete;
    write.ref = op->ref;
    write.expected = op->expected;
    write.previous = op->previous;
    return WriteOpView{op->target, std::move(write), "delete"};
  }
  return std::nullopt;
}

std::string rule_of(const Operation& operation) {
  return std::visit([](const auto& op) { return op.rule; }, operation);
}

}  // namespace

Result<bool> SyncEngine::apply_plan(const Plan& plan, RunReport& report, StateDelta& delta,
                                    PerSide<OwnWrites>& own, Summary& summary) {
  const auto& ops = plan.operations;
  std::vector<std::optional<WriteOpView>> writes;
  writes.reserve(ops.size());
  for (const auto& operation : ops) writes.push_back(as_write(operation));

  // The link each update group means to record, for the recovery of lost replies.
  std::map<IdempotencyKey, const LinkRecord*> intended;
  for (const auto& operation : ops) {
    if (const auto* link = std::get_if<LinkOp>(&operation))
      intended[link->record.key] = &link->record;
  }

  // R28: the intent is durable before anything is sent.
  std::vector<JournalEntry> journal;
  for (std::size_t i = 0; i < ops.size(); ++i) {
    // A stamp whose reply is lost needs no recovery: at worst the item's version moved,
    // which the next run records as touched (same content).
    if (!writes[i] || writes[i]->write.op == WriteOp::kStampKey) continue;
    JournalEntry entry{
        link_of(ops[i]), writes[i]->target, writes[i]->write.op, writes[i]->write.ref, {},
        report.run_id,   std::nullopt};
    if (const auto* create = std::get_if<CreateOp>(&ops[i])) entry.pending_link = create->pending;
    if (const auto* update = std::get_if<UpdateOp>(&ops[i])) {
      if (auto found = intended.find(update->link); found != intended.end()) {
        entry.pending_link = *found->second;
      }
      entry.previous = update->previous;
    }
    journal.push_back(std::move(entry));
  }
  if (!journal.empty()) {
    if (auto stored = state_.journal(journal); !stored) return std::unexpected(stored.error());
  }
  step(CycleStep::kJournaled);

  // Batched writes, per side, in plan order.
  std::vector<std::optional<Result<SideItem>>> outcomes(ops.size());
  for (Side target : kBothSides) {
    std::vector<std::size_t> indices;
    for (std::size_t i = 0; i < ops.size(); ++i) {
      if (writes[i] && writes[i]->target == target) indices.push_back(i);
    }
    for (std::size_t at = 0; at < indices.size(); at += options_.write_batch) {
      const std::size_t end = std::min(indices.size(), at + options_.write_batch);
      std::vector<Write> batch;
      for (std::size_t k = at; k < end; ++k) batch.push_back(writes[indices[k]]->write);
      auto results = side(target).apply(batch);
      for (std::size_t k = at; k < end; ++k) {
        const std::size_t slot = k - at;
        outcomes[indices[k]] =
            slot < results.size()
                ? std::move(results[slot].outcome)
                : Result<SideItem>(fail(
                      ErrorKind::kPermanent,
                      fmt::format("{} returned no result for a write", side(target).describe())));
      }
      step(CycleStep::kBatchApplied);
    }
  }

  // Per link: record the status only when every write of the link succeeded; otherwise the
  // link stays as it was and, with the cursors kept, the next run plans it again.
  std::map<IdempotencyKey, std::vector<std::size_t>> groups;
  std::vector<IdempotencyKey> group_order;
  for (std::size_t i = 0; i < ops.size(); ++i) {
    auto [it, inserted] = groups.try_emplace(link_of(ops[i]));
    if (inserted) group_order.push_back(it->first);
    it->second.push_back(i);
  }
  summary.skipped += plan.skipped.size();
  std::vector<AuditRecord> audit;
  bool all_ok = true;
  std::vector<WriteFailure> failures;  // grouped into report.errors below
  const Instant now = options_.clock();
  auto succeeded = [&](std::size_t i) {
    if (!outcomes[i]) return false;
    if (*outcomes[i]) return true;
    // Deleting what is already gone reaches the deletion's goal.
    return std::holds_alternative<DeleteOp>(ops[i]) &&
           outcomes[i]->error().kind == ErrorKind::kNotFound;
  };
  for (const auto& key : group_order) {
    const auto& members = groups.at(key);
    bool ok = true;
    bool unknown_outcome = false;
    bool some_landed = false;
    bool only_updates = true;
    for (std::size_t i : members) {
      if (!writes[i]) continue;
      const bool stamp = writes[i]->write.op == WriteOp::kStampKey;
      only_updates = only_updates && (writes[i]->write.op == WriteOp::kUpdate || stamp);
      if (succeeded(i)) {
        some_landed = some_landed || !stamp;
        continue;
      }
      const Error& error = outcomes[i]->error();
      if (stamp) {
        // R41: a missing key costs nothing until the mailbox changes backend (the R20 match
        // is the fallback then); it must not undo the link or hold the cursors. Reported.
        failures.push_back(WriteFailure{writes[i]->operation, key.str(),
                                        side(writes[i]->target).describe(), error});
        continue;
      }
      ok = false;
      // A write that failed this way may still have landed (a lost reply); the others did not.
      const bool ambiguous = error.kind == ErrorKind::kTransient ||
                             error.kind == ErrorKind::kThrottled ||
                             error.kind == ErrorKind::kPermanent;
      unknown_outcome = unknown_outcome || (ambiguous && writes[i]->write.op != WriteOp::kDelete);
      ++summary.sides[writes[i]->target].failed;
      failures.push_back(
          WriteFailure{writes[i]->operation, key.str(), side(writes[i]->target).describe(), error});
    }
    // A write whose outcome is unknown keeps its journal entry: the next run's recovery
    // looks the item up before anything is created again or a landed update is mistaken
    // for a person's edit.
    if (!unknown_outcome) delta.journal_done.push_back(key);
    if (!ok) {
      all_ok = false;
      // One side took the merged item, the other did not: record what landed, and what the
      // other side still holds, so the next merge neither repeats nor reverts anything.
      if (!(some_landed && only_updates)) continue;
    }
    std::optional<LinkRecord> record;
    bool forget = false;
    for (std::size_t i : members) {
      if (const auto* link = std::get_if<LinkOp>(&ops[i])) {
        record = link->record;
        summary.linked += link->is_new ? 1 : 0;
      } else if (const auto* create = std::get_if<CreateOp>(&ops[i])) {
        record = create->pending;
      } else if (std::holds_alternative<ForgetOp>(ops[i])) {
        forget = true;
      } else if (std::holds_alternative<ResolveConflictOp>(ops[i])) {
        ++summary.conflicts;
      }
    }
    for (std::size_t i : members) {
      if (!writes[i]) continue;
      const Side target = writes[i]->target;
      const Write& write = writes[i]->write;
      if (!succeeded(i)) {
        if (record && write.op != WriteOp::kStampKey) record->sides[target].held = write.previous;
        continue;
      }
      AuditRecord entry{report.run_id,
                        now,
                        options_.policy.pair_id,
                        target,
                        write.ref.str(),
                        key.str(),
                        writes[i]->operation,
                        rule_of(ops[i]),
                        {}};
      if (write.op == WriteOp::kDelete) {
        own[target].deleted.insert(write.ref);
        ++summary.sides[target].deleted;
        entry.changes =
            diff(write.previous.value_or(Appointment{}), Appointment{}, target == Side::kHost);
      } else {
        const SideItem& written = **outcomes[i];
        own[target].written.insert_or_assign(written.ref, written.version);
        if (record) {
          record->sides[target] = {written.ref, written.version,
                                   item_fingerprint(target, written.item), std::nullopt};
        }
        if (write.op == WriteOp::kStampKey) {
          // Only the hidden key changed: recorded (the version moved), not counted or audited
          // as a change a person would see.
          continue;
        }
        ++(write.op == WriteOp::kCreate ? summary.sides[target].created
                                        : summary.sides[target].updated);
        entry.item = written.ref.str();
        entry.changes =
            diff(write.previous.value_or(Appointment{}), write.item, target == Side::kHost);
      }
      audit.push_back(std::move(entry));
    }
    if (forget) {
      delta.remove.push_back(key);
    } else if (record) {
      delta.upsert.push_back(std::move(*record));
    }
  }
  for (std::string& line : report_lines(failures)) report.errors.push_back(std::move(line));
  // The audit trail before the status commit: the writes happened whatever the commit does.
  if (!audit.empty()) {
    if (auto recorded = audit_.record(audit); !recorded) return std::unexpected(recorded.error());
  }
  return all_ok;
}

Result<void> SyncEngine::execute(const Plan& plan, RunReport& report,
                                 const PerSide<Cursor>& read_cursors, PerSide<Cursor> next_cursors,
                                 bool clear_quarantine) {
  StateDelta delta;
  PerSide<OwnWrites> own;
  Summary summary;
  auto applied = apply_plan(plan, report, delta, own, summary);
  if (!applied) return std::unexpected(applied.error());
  const bool all_ok = *applied;
  // Cursors move only when everything this run read was dealt with; else the next run reads
  // the same changes again (already-synced ones are echoes by then and cost nothing).
  if (all_ok) {
    for (Side which : kBothSides) {
      Cursor cursor = next_cursors[which];
      // The position read before the writes would hand them back next run as changes, and
      // a feed like Exchange's SyncFolderItems hides an item created and deleted after a
      // position entirely: an item we create that a person deletes before the next run
      // would never be seen as deleted. One read of the feed right after the writes moves
      // the cursor past them when they are all it reports.
      if (!own[which].empty()) {
        if (auto past = cursor_past(which, next_cursors[which], own[which])) {
          cursor = std::move(*past);
          report.cursor_past_writes[which] = true;
        }
      }
      // An idle cycle ends where it started: writing the same cursor again would cost a
      // transaction and an fsync per pair and cycle for nothing.
      if (cursor != read_cursors[which]) delta.cursors[which] = std::move(cursor);
    }
  }
  delta.clear_quarantine = clear_quarantine;
  if (auto committed = state_.commit(delta); !committed) return committed;
  step(CycleStep::kCommitted);
  report.summary = summary;
  report.outcome = all_ok ? RunOutcome::kSynced : RunOutcome::kPartial;
  return {};
}

}  // namespace agendasync::sync
