#include "sync/engine.h"

#include <fmt/format.h>

#include <map>
#include <unordered_map>
#include <unordered_set>

#include "sync/fields.h"
#include "sync/full_listing.h"
#include "sync/identity.h"

namespace agendasync::sync {

SyncEngine::SyncEngine(CalendarSide& host, CalendarSide& remote, SyncState& state, AuditSink& audit,
                       EngineOptions options)
    : host_(host), remote_(remote), state_(state), audit_(audit), options_(std::move(options)) {
  if (!options_.clock)
    options_.clock = [] {
      return std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
    };
}

Result<void> SyncEngine::recover(const std::string& run_id) {
  auto pending = state_.pending_journal();
  if (!pending) return std::unexpected(pending.error());
  if (pending->empty()) return {};
  // Each side is asked once for every interrupted create's key and once (per fetch batch) for
  // every interrupted update's item: one request per item would rarely all succeed under a
  // fault rate, and a run may not write before its journal is resolved whole.
  std::map<Side, std::vector<IdempotencyKey>> created_keys;
  std::map<Side, std::vector<ItemRef>> updated_refs;
  std::map<IdempotencyKey, std::vector<const JournalEntry*>> updates;
  for (const auto& entry : *pending) {
    // Deletes need no lookup: if they landed, the next read reports them. A create that
    // landed must be linked, or the next cycle would create the item again. An update that
    // landed must be known as ours, or it would look like a person's edit (below).
    if (entry.op == WriteOp::kCreate) created_keys[entry.target].push_back(entry.key);
    if (entry.op == WriteOp::kUpdate) {
      updates[entry.key].push_back(&entry);
      updated_refs[entry.target].push_back(entry.target_ref);
    }
  }
  std::map<Side, std::map<IdempotencyKey, SideItem>> created;
  for (const auto& [target, keys] : created_keys) {
    auto found = side(target).find_by_keys(keys);
    if (!found) {
      return std::unexpected(Error::make(
          found.error().kind,
          fmt::format("run {}: cannot resolve {} interrupted create(s) on {}; nothing was "
                      "changed, the next run retries: {}",
                      run_id, keys.size(), side(target).describe(), found.error().message)));
    }
    created[target] = std::move(*found);
  }
  RecoveredItems current;
  for (const auto& [target, refs] : updated_refs) {
    auto found = fetch_all(target, refs);
    if (!found) {
      return std::unexpected(Error::make(
          found.error().kind,
          fmt::format("run {}: cannot read {} item(s) of interrupted updates on {}; nothing "
                      "was changed, the next run retries: {}",
                      run_id, refs.size(), side(target).describe(), found.error().message)));
    }
    for (SideItem& item : *found) current[target].insert_or_assign(item.ref, std::move(item));
  }

  StateDelta delta;
  for (const auto& entry : *pending) {
    if (entry.op == WriteOp::kCreate) {
      const auto& found = created[entry.target];
      if (auto it = found.find(entry.key); it != found.end()) {
        LinkRecord record = entry.pending_link;
        // The item may have been edited since it was created: record what we wrote, under no
        // version, so the next read of it compares contents and keeps such an edit.
        record.sides[entry.target] = {it->second.ref, VersionTag(),
                                      item_fingerprint(entry.target, record.base), std::nullopt};
        delta.upsert.push_back(std::move(record));
      }
    }
    delta.journal_done.push_back(entry.key);
  }
  for (const auto& [key, entries] : updates) {
    auto recorded = recover_updates(key, entries, current);
    if (!recorded) return std::unexpected(recorded.error());
    if (*recorded) delta.upsert.push_back(std::move(**recorded));
  }
  return state_.commit(delta);
}

namespace {

/// Whether `found` shows every field a write changed from `before` to `written`.
bool carries_write(const Appointment& before, const Appointment& written,
                   const Appointment& found) {
  bool changed_any = false;
  for (const auto& field : appointment_fields()) {
    if (field.host_only || field.equal(before, written)) continue;
    changed_any = true;
    if (!field.equal(found, written)) return false;
  }
  return changed_any;
}

}  // namespace

Result<std::optional<LinkRecord>> SyncEngine::recover_updates(
    const IdempotencyKey& key, const std::vector<const JournalEntry*>& entries,
    const RecoveredItems& current) {
  const LinkRecord& intended = entries.front()->pending_link;
  if (intended.key != key) return std::nullopt;  // an entry without its link: nothing to add
  auto stored = state_.find_link_by_key(key);
  if (!stored) return std::unexpected(stored.error());
  // The executor may already have recorded the writes that were confirmed.
  const bool partly_recorded = *stored && (*stored)->base == intended.base;
  LinkRecord record = partly_recorded ? **stored : intended;
  bool landed = false;
  for (const JournalEntry* entry : entries) {
    const SideItem* found = nullptr;
    if (auto side_items = current.find(entry->target); side_items != current.end()) {
      if (auto it = side_items->second.find(entry->target_ref); it != side_items->second.end()) {
        found = &it->second;
      }
    }
    const std::string wanted = item_fingerprint(entry->target, intended.base);
    if (found && item_fingerprint(entry->target, found->item) == wanted) {
      record.sides[entry->target] = {found->ref, found->version, wanted, std::nullopt};
      landed = true;
    } else if (found &&
               carries_write(entry->previous.value_or(record.base), intended.base, found->item)) {
      // Landed, and edited by a person since: record our write under no version, so the
      // next read sees their edit as a change against what we wrote.
      record.sides[entry->target] = {found->ref, VersionTag(), wanted, std::nullopt};
      landed = true;
    } else if (!partly_recorded) {
      record.sides[entry->target].held = entry->previous;
    }
  }
  if (!landed) return std::nullopt;
  return record;
}

Result<std::vector<SideItem>> SyncEngine::fetch_all(Side which, const std::vector<ItemRef>& refs) {
  std::vector<SideItem> items;
  for (std::size_t at = 0; at < refs.size(); at += options_.fetch_batch) {
    const std::size_t end = std::min(refs.size(), at + options_.fetch_batch);
    auto batch = side(which).fetch(std::span(refs).subspan(at, end - at));
    if (!batch) return std::unexpected(batch.error());
    items.insert(items.end(), std::make_move_iterator(batch->begin()),
                 std::make_move_iterator(batch->end()));
  }
  return items;
}

Result<FeedRead> SyncEngine::read_feed(Side which, const Cursor& cursor) {
  // Page until the feed says complete. A failing page fails the whole read: a partial read
  // must never look like "fewer changes" or "no deletions" (R38).
  std::vector<ItemRef> order;
  struct LastWord {
    bool deleted = false;
    VersionTag version;
  };
  std::unordered_map<ItemRef, LastWord> last;  // the last word per ref wins across pages
  auto note = [&](const ItemRef& ref, LastWord word) {
    if (last.insert_or_assign(ref, std::move(word)).second) order.push_back(ref);
  };
  Cursor position = cursor;
  bool complete = false;
  for (std::size_t page = 0; page < options_.max_pages && !complete; ++page) {
    auto batch = side(which).changes_since(position);
    if (!batch) return std::unexpected(batch.error());
    const bool versioned = batch->changed_versions.size() == batch->changed.size();
    for (std::size_t i = 0; i < batch->changed.size(); ++i) {
      note(batch->changed[i], {false, versioned ? batch->changed_versions[i] : VersionTag()});
    }
    for (const auto& ref : batch->deleted) note(ref, {true, VersionTag()});
    position = batch->next;
    complete = batch->complete;
  }
  if (!complete) {
    return fail(ErrorKind::kTransient,
                fmt::format("{}: the change feed did not complete within {} pages; nothing was "
                            "synced, the next run continues",
                            side(which).describe(), options_.max_pages));
  }
  FeedRead read;
  for (const auto& ref : order) {
    LastWord& word = last.at(ref);
    if (word.deleted) {
      read.deleted.push_back(ref);
    } else {
      read.changed.emplace_back(ref, std::move(word.version));
    }
  }
  read.end = std::move(position);
  return read;
}

Result<SideReport> SyncEngine::read_changes(Side which, const Cursor& cursor, Cursor& next,
                                            std::size_t& echoes) {
  auto feed = read_feed(which, cursor);
  if (!feed) return std::unexpected(feed.error());
  SideReport report;
  report.deleted = std::move(feed->deleted);
  std::vector<ItemRef> changed;
  for (auto& [ref, version] : feed->changed) {
    if (!version.empty()) {
      // The link already holds this version: our own write coming back (or an item the
      // status is up to date with). Planning would classify it unchanged; skip the fetch.
      // Not when a side of the link still holds content a failed write did not replace:
      // the re-read of this change is what makes the planner retry that write.
      auto link = state_.glance_by_ref(which, ref);
      if (!link) return std::unexpected(link.error());
      if (*link && (*link)->version == version && !(*link)->held) {
        ++echoes;
        continue;
      }
    }
    changed.push_back(std::move(ref));
  }
  auto items = fetch_all(which, changed);
  if (!items) return std::unexpected(items.error());
  // A changed item absent from the fetch was deleted after the feed was read: the next feed
  // reports that deletion. It is not taken as one now (R38).
  for (auto& item : *items) report.items.push_back({std::move(item)});
  next = std::move(feed->end);
  return report;
}

std::optional<Cursor> SyncEngine::cursor_past(Side which, const Cursor& from,
                                              const OwnWrites& own) {
  // An empty cursor would read as "now" and prove nothing.
  if (from.empty()) return std::nullopt;
  // A failed read here costs nothing but the echoes next time: the writes are done.
  auto feed = read_feed(which, from);
  if (!feed) return std::nullopt;
  std::vector<ItemRef> unversioned;
  for (const auto& [ref, version] : feed->changed) {
    auto mine = own.written.find(ref);
    // Someone else's change (made while this run was reading or writing): the next run
    // must read it, so it starts from `from`, where the feed reports it.
    if (mine == own.written.end()) return std::nullopt;
    if (version.empty()) {
      unversioned.push_back(ref);
    } else if (version != mine->second) {
      return std::nullopt;  // changed again after our write
    }
  }
  for (const auto& ref : feed->deleted) {
    if (!own.deleted.contains(ref)) return std::nullopt;
  }
  if (!unversioned.empty()) {
    // A feed without versions: the items themselves say whether they are still as written.
    auto items = fetch_all(which, unversioned);
    if (!items || items->size() != unversioned.size()) return std::nullopt;
    for (const auto& item : *items) {
      auto mine = own.written.find(item.ref);
      if (mine == own.written.end() || mine->second.empty() || item.version != mine->second) {
        return std::nullopt;
      }
    }
  }
  return std::move(feed->end);
}

Result<SideReport> SyncEngine::read_full(Side which, Cursor& next, std::size_t& listed) {
  const Instant now = options_.clock();
  const TimeWindow window{now - options_.policy.skip_ended_after, now + options_.horizon};
  auto listing = side(which).list(window);
  if (!listing) return std::unexpected(listing.error());
  SideReport report;
  for (auto& item : listing->first) report.items.push_back({std::move(item)});
  listed = report.items.size();
  next = listing->second;
  return report;
}

Result<std::vector<LinkRecord>> SyncEngine::links_for(PerSide<SideReport>& reports) {
  std::map<IdempotencyKey, LinkRecord> links;
  auto remember = [&](Result<std::optional<LinkRecord>> found) -> Result<void> {
    if (!found) return std::unexpected(found.error());
    if (*found) links.try_emplace((*found)->key, std::move(**found));
    return {};
  };
  // Only the links the observations name: O(changes) indexed lookups, never a scan.
  for (Side which : kBothSides) {
    for (const auto& obs : reports[which].items) {
      auto by_ref = state_.find_link_by_ref(which, obs.item.ref);
      if (!by_ref) return std::unexpected(by_ref.error());
      if (*by_ref) {
        links.try_emplace((*by_ref)->key, std::move(**by_ref));
      } else if (obs.item.idempotency_key) {
        if (auto ok = remember(state_.find_link_by_key(*obs.item.idempotency_key)); !ok) {
          return std::unexpected(ok.error());
        }
      }
    }
    for (const auto& ref : reports[which].deleted) {
      if (auto ok = remember(state_.find_link_by_ref(which, ref)); !ok) {
        return std::unexpected(ok.error());
      }
    }
  }
  // Copy detection: an item carrying the key of a link whose own item was not seen this
  // cycle. Whether that item still exists decides "copy" versus "moved" (plan.cpp).
  for (Side which : kBothSides) {
    std::unordered_set<ItemRef> seen;
    for (const auto& obs : reports[which].items) seen.insert(obs.item.ref);
    for (const auto& ref : reports[which].deleted) seen.insert(ref);
    std::vector<ItemRef> unknown;
    for (const auto& obs : reports[which].items) {
      if (!obs.item.idempotency_key) continue;
      auto link = links.find(*obs.item.idempotency_key);
      if (link == links.end()) continue;
      const ItemRef& known = link->second.sides[which].ref;
      if (!known.empty() && !seen.contains(known)) {
        unknown.push_back(known);
        seen.insert(known);
      }
    }
    auto alive = fetch_all(which, unknown);
    if (!alive) return std::unexpected(alive.error());
    for (const auto& item : *alive) reports[which].existing.insert(item.ref);
  }
  std::vector<LinkRecord> result;
  for (auto& [key, link] : links) result.push_back(std::move(link));
  return result;
}

Result<void> SyncEngine::record_text_repairs(RunReport& report, Instant now, bool dry_run) {
  std::vector<AuditRecord> records;
  for (Side which : kBothSides) {
    for (auto& repair : side(which).take_text_repairs()) {
      AuditRecord record;
      record.run_id = report.run_id;
      record.at = now;
      record.pair_id = options_.policy.pair_id;
      record.side = which;
      record.item = repair.ref.str();
      record.operation = "repair";
      record.rule =
          fmt::format("invalid UTF-8 read from {} replaced with U+FFFD", side(which).describe());
      // Never the text itself: it is the user's data and did not print anyway.
      for (const auto& field : repair.fields) {
        record.changes.push_back(FieldChange{field, "(invalid UTF-8)", "(repaired, U+FFFD)"});
      }
      records.push_back(std::move(record));
      report.text_repairs.emplace_back(which, std::move(repair));
    }
  }
  if (dry_run || records.empty()) return {};
  return audit_.record(records);
}

Result<RunReport> SyncEngine::run(bool dry_run) {
  const Instant now = options_.clock();
  RunReport report;
  report.run_id =
      fmt::format("{}-{}-{}", options_.policy.pair_id, now.time_since_epoch().count(), ++runs_);
  const std::string& pair = options_.policy.pair_id;
  const std::string& user = options_.policy.host_user;

  auto gate = state_.quarantine();
  if (!gate) return std::unexpected(gate.error());
  const bool approved = *gate && (*gate)->approved;
  if (*gate && !approved && !dry_run) {
    return fail(ErrorKind::kPermission,
                fmt::format("pair {} is quarantined: {}. Review the plan with `agendasync sync "
                            "--user {} --dry-run`, then run `agendasync approve --user {}`",
                            pair, (*gate)->reason, user, user),
                "Quarantined");
  }
  if (!options_.remote_backend.empty()) {
    // R41: a pair whose mailbox moved (or whose organisation changed connection) starts
    // over on the remote side: the old backend's refs and cursor mean nothing on the new
    // one. The links stay; the full listing below finds each item again by its key.
    auto recorded = state_.remote_backend();
    if (!recorded) return std::unexpected(recorded.error());
    if (*recorded != options_.remote_backend) {
      if (dry_run && !recorded->empty()) {
        return fail(ErrorKind::kUnsupported,
                    fmt::format("pair {} moves from {} to {}: its next sync finds every linked "
                                "item again by its key; a dry run cannot show that plan. Run "
                                "`agendasync sync --user {}` without --dry-run",
                                pair, *recorded, options_.remote_backend, user),
                    "BackendSwitch");
      }
      if (!dry_run) {
        if (auto switched = state_.switch_remote_backend(options_.remote_backend); !switched) {
          return std::unexpected(switched.error());
        }
        if (!recorded->empty()) report.switched_from = *recorded;
      }
    }
  }
  if (!dry_run) {
    if (auto recovered = recover(report.run_id); !recovered) {
      return std::unexpected(recovered.error());
    }
    step(CycleStep::kRecovered);
  }

  // The number of links counts index entries: an idle incremental cycle needs it only when
  // the breaker could trip, so it is counted when first asked (before any write either way).
  std::optional<std::size_t> link_total;
  auto count_links = [&]() -> Result<std::size_t> {
    if (!link_total) {
      auto counted = state_.link_count();
      if (!counted) return std::unexpected(counted.error());
      link_total = *counted;
    }
    return *link_total;
  };
  PerSide<Cursor> cursors;
  for (Side which : kBothSides) {
    auto cursor = state_.cursor(which);
    if (!cursor) return std::unexpected(cursor.error());
    cursors[which] = *cursor;
  }
  bool full = cursors[Side::kHost].empty() || cursors[Side::kRemote].empty();
  PerSide<SideReport> reports;
  PerSide<Cursor> next;
  // Counted once the run knows it lists in full (the full-listing paths below need it).
  Result<std::size_t> links_before = std::size_t{0};
  PerSide<std::size_t> listed;
  if (!full) {
    for (Side which : kBothSides) {
      auto changes = read_changes(which, cursors[which], next[which], report.echoes[which]);
      if (!changes && changes.error().kind == ErrorKind::kCursorInvalid) {
        full = true;  // R27: a full resync, matching by key first, then by R20
        break;
      }
      if (!changes) return std::unexpected(changes.error());
      reports[which] = std::move(*changes);
    }
  }
  // A full listing that will write runs paged: memory bounded by a batch, not by the
  // calendar (issue 14, full_listing.cpp). A dry run, and a first sync that waits for an
  // admin's approval, need the whole plan at once to show it: they keep the listing below.
  if (full) links_before = count_links();
  if (!links_before) return std::unexpected(links_before.error());
  const bool shows_whole_plan =
      dry_run || (*links_before == 0 && options_.first_sync_requires_approval && !approved);
  if (full && !shows_whole_plan) {
    report.echoes = {};
    FullListingStart start;
    start.stored_cursors = cursors;
    start.links_before = *links_before;
    start.approved = approved;
    start.first_sync_unfinished = cursors[Side::kHost].empty() && cursors[Side::kRemote].empty();
    PagedFullListing paged(*this, report, now);
    if (auto done = paged.run(start); !done) return std::unexpected(done.error());
    return report;
  }
  if (full) {
    reports = {};
    report.echoes = {};
    for (Side which : kBothSides) {
      auto listing = read_full(which, next[which], listed[which]);
      if (!listing) return std::unexpected(listing.error());
      reports[which] = std::move(*listing);
      if (listed[which] == 0 && *links_before >= options_.breaker.min_items && !approved) {
        // R38: a side that suddenly lists empty while many items are linked is a broken read
        // or a wrong mailbox, not a mass deletion. (A handful of links can legitimately all
        // be gone; an admin's approval lets a real emptying through.)
        return fail(ErrorKind::kInvalidData,
                    fmt::format("{} listed no items while {} are linked; refusing to treat that "
                                "as deletions. Check the mailbox address and the service "
                                "account's rights (`agendasync doctor`), then sync again",
                                side(which).describe(), *links_before),
                    "EmptyListing");
      }
    }
  }
  report.full_listing = full;

  PlanInput input;
  input.full_listing = full;
  input.now = now;
  if (full) {
    // Every link is in play; a linked item missing from the listing is looked up before it
    // counts as deleted (it may simply lie outside the window).
    auto all = state_.all_links();
    if (!all) return std::unexpected(all.error());
    input.links = std::move(*all);
    for (Side which : kBothSides) {
      std::unordered_set<ItemRef> listed_refs;
      for (const auto& obs : reports[which].items) listed_refs.insert(obs.item.ref);
      std::vector<ItemRef> missing;
      for (const auto& link : input.links) {
        const ItemRef& ref = link.sides[which].ref;
        if (!ref.empty() && !listed_refs.contains(ref)) missing.push_back(ref);
      }
      auto found = fetch_all(which, missing);
      if (!found) return std::unexpected(found.error());
      std::unordered_set<ItemRef> alive;
      for (auto& item : *found) {
        alive.insert(item.ref);
        reports[which].items.push_back({std::move(item)});
      }
      for (const auto& ref : missing) {
        if (!alive.contains(ref)) reports[which].deleted.push_back(ref);
      }
    }
  } else {
    auto links = links_for(reports);
    if (!links) return std::unexpected(links.error());
    input.links = std::move(*links);
  }
  if (auto repairs = record_text_repairs(report, now, dry_run); !repairs) {
    return std::unexpected(repairs.error());
  }
  step(CycleStep::kRead);

  for (Side which : kBothSides) input.reports[which] = std::move(reports[which]);
  report.plan = make_plan(input, options_.policy);
  report.summary = summarize(report.plan);

  // R38 gates: the circuit breaker and the optional approval of a first sync. Until a first
  // sync has completed (no cursor stored yet) creating the other side's items is the whole
  // point, even when a killed earlier attempt already linked some of them; only deletions
  // count then. Afterwards mass creates count too.
  const bool first_sync = full && *links_before == 0;
  const bool first_sync_unfinished = cursors[Side::kHost].empty() && cursors[Side::kRemote].empty();
  std::string reason;
  if (!approved && !first_sync) {
    for (Side target : kBothSides) {
      const SideCounts& counts = report.summary.sides[target];
      const std::size_t changes = (first_sync_unfinished ? 0 : counts.created) + counts.deleted;
      if (changes < options_.breaker.min_items) continue;  // cannot trip: no count needed
      auto linked = count_links();
      if (!linked) return std::unexpected(linked.error());
      const std::size_t size = std::max(*linked, listed[target]);
      if (options_.breaker.trips(changes, size)) {
        reason = fmt::format(
            "the run would create {} and delete {} items on {} ({} items linked), more than "
            "{:.0f}% of the calendar",
            counts.created, counts.deleted, side(target).describe(), size,
            options_.breaker.max_share * 100);
        break;
      }
    }
  }
  if (reason.empty() && !approved && first_sync && options_.first_sync_requires_approval) {
    reason = "first sync of this pair: its plan needs an admin's approval";
  }
  if (!reason.empty()) {
    report.quarantine_reason = reason;
    if (dry_run) {
      report.outcome = RunOutcome::kDryRun;
      return report;
    }
    if (auto stored = state_.set_quarantine(reason); !stored) {
      return std::unexpected(stored.error());
    }
    report.outcome = RunOutcome::kQuarantined;
    return report;
  }
  if (dry_run) {
    report.outcome = RunOutcome::kDryRun;
    return report;
  }
  if (auto done = execute(report.plan, report, cursors, next, approved); !done) {
    return std::unexpected(done.error());
  }
  return report;
}

}  // namespace agendasync::sync
