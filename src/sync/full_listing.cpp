// The paged full listing (first sync, resync): stage both listings page by page, then plan
// and execute batch by batch, each batch bringing together the items the planner must see
// together. README.md "Paged full listing" explains why each lookup is there.
#include "sync/full_listing.h"

#include <fmt/format.h>

#include "core/canonical.h"
#include "sync/identity.h"

namespace agendasync::sync {
namespace {

void add_counts(Summary& into, const Summary& from) {
  for (Side side : kBothSides) {
    into.sides[side].created += from.sides[side].created;
    into.sides[side].updated += from.sides[side].updated;
    into.sides[side].deleted += from.sides[side].deleted;
    into.sides[side].failed += from.sides[side].failed;
  }
  into.linked += from.linked;
  into.conflicts += from.conflicts;
  into.skipped += from.skipped;
}

}  // namespace

PagedFullListing::PagedFullListing(SyncEngine& engine, RunReport& report, Instant now)
    : engine_(engine), stage_(engine.state_.listing_stage()), report_(report), now_(now) {}

Result<StagedItem> PagedFullListing::to_staged(Side which, SideItem item) {
  const PlanPolicy& policy = engine_.options_.policy;
  StagedItem staged;
  staged.own_key = derive_key(policy.pair_id, which, item.ref);
  if (no_links_at_start_) {
    // Nothing is linked while a pair's very first sync stages (its batches run after).
    if (r20_matchable(policy, which, item.item)) staged.match_key = match_key(item.item);
    staged.item = std::move(item);
    return staged;
  }
  auto link = engine_.state_.glance_by_ref(which, item.ref);
  if (!link) return std::unexpected(link.error());
  staged.linked = link->has_value();
  if (!staged.linked && item.idempotency_key) {
    auto by_key = engine_.state_.find_link_by_key(*item.idempotency_key);
    if (!by_key) return std::unexpected(by_key.error());
    staged.linked = by_key->has_value();
  }
  if (r20_matchable(policy, which, item.item)) staged.match_key = match_key(item.item);
  staged.item = std::move(item);
  return staged;
}

Result<void> PagedFullListing::partner_by_key(StagedItem& remote) {
  if (remote.linked) return {};
  // Free, or already this remote item's partner (a listing may hand an item over twice).
  auto free_for = [&](const StagedItem& host) {
    return !host.partner || *host.partner == remote.item.ref;
  };
  // The planner's R27 match, found while the remote side is staged (the host side is staged
  // first). A host item the sync copied to the remote: the remote copy carries the host
  // item's derived key (the planner asks that host item to be R20-matchable, too).
  if (remote.item.idempotency_key) {
    auto host = stage_.by_own_key(Side::kHost, *remote.item.idempotency_key);
    if (!host) return std::unexpected(host.error());
    if (*host && free_for(**host) && !(*host)->match_key.empty()) {
      remote.partner = (*host)->item.ref;
      return stage_.set_partner(Side::kHost, (*host)->item.ref, remote.item.ref);
    }
  }
  // A remote item the sync copied to the host: the host copy carries the remote's key.
  auto host = stage_.carrying(Side::kHost, remote.own_key);
  if (!host) return std::unexpected(host.error());
  if (*host && !(*host)->linked && free_for(**host)) {
    remote.partner = (*host)->item.ref;
    return stage_.set_partner(Side::kHost, (*host)->item.ref, remote.item.ref);
  }
  return {};
}

Result<void> PagedFullListing::stage_side(Side which, Cursor& next) {
  const auto& options = engine_.options_;
  const TimeWindow window{now_ - options.policy.skip_ended_after, now_ + options.horizon};
  auto cursor =
      engine_.side(which).list_paged(window, [&](std::vector<SideItem>&& page) -> Result<void> {
        std::vector<StagedItem> staged;
        staged.reserve(page.size());
        for (auto& item : page) {
          auto entry = to_staged(which, std::move(item));
          if (!entry) return std::unexpected(entry.error());
          if (which == Side::kRemote) {
            if (auto paired = partner_by_key(*entry); !paired) return paired;
          }
          staged.push_back(std::move(*entry));
        }
        return stage_.put(which, staged);
      });
  if (!cursor) return std::unexpected(cursor.error());
  next = std::move(*cursor);
  auto count = stage_.count(which);
  if (!count) return std::unexpected(count.error());
  listed_[which] = *count;
  return {};
}

void PagedFullListing::add_item(Batch& batch, Side side, const SideItem& item, bool staged) {
  if (!batch.present[side].insert(item.ref).second) return;
  batch.input.reports[side].items.push_back({item});
  if (staged) batch.take[side].push_back(item.ref);
}

Result<void> PagedFullListing::add_link(Batch& batch, const LinkRecord& link) {
  if (!batch.links.try_emplace(link.key, link).second) return {};
  for (Side side : kBothSides) {
    const ItemRef& ref = link.sides[side].ref;
    if (!ref.empty() && !batch.present[side].contains(ref)) {
      auto staged = stage_.by_ref(side, ref);
      if (!staged) return std::unexpected(staged.error());
      if (!*staged) {
        // Not listed: outside the window, or gone. Fetched before it counts as deleted.
        batch.missing[side].push_back(ref);
      } else if ((*staged)->done) {
        // Planned with its link by an earlier batch: alive, which tells a copy (below) from
        // our item under a new ref.
        batch.input.reports[side].existing.insert(ref);
      } else {
        add_item(batch, side, (*staged)->item, true);
      }
    }
    // An item carrying the link's key under another ref: ours again after a resync or a
    // moved mailbox (R27, R41), or a person's copy. The planner tells which by whether the
    // linked item is alive, so both come to this batch.
    auto carrier = stage_.carrying(side, link.key);
    if (!carrier) return std::unexpected(carrier.error());
    if (*carrier && !(*carrier)->done) add_item(batch, side, (*carrier)->item, true);
    if (link.sides[side].refind && !*carrier) {
      // R41: the pair changed backend and the new one did not list the item (outside the
      // window, or gone): asked for by its key, so an old item is re-linked too, not left.
      auto found = engine_.side(side).find_by_key(link.key);
      if (!found) return std::unexpected(found.error());
      if (*found) add_item(batch, side, **found, false);
    }
  }
  return {};
}

Result<void> PagedFullListing::add_driver(Batch& batch, Side side, const StagedItem& row) {
  add_item(batch, side, row.item, true);
  auto& state = engine_.state_;
  // On a pair's very first sync a link by this ref cannot exist: the run's links hold, on
  // this side, refs its batches took (done, so not driven again) or items it created (never
  // staged). An item carrying a key may still belong to a link an earlier batch made.
  Result<std::optional<LinkRecord>> link = std::optional<LinkRecord>{};
  if (!no_links_at_start_) link = state.find_link_by_ref(side, row.item.ref);
  if (!link) return std::unexpected(link.error());
  if (!*link && row.item.idempotency_key) {
    link = state.find_link_by_key(*row.item.idempotency_key);
    if (!link) return std::unexpected(link.error());
  }
  bool copy = false;
  if (*link) {
    // Carrying the key of a link whose own item is listed too: a person's copy, which the
    // planner treats as a new item; it may match like one.
    const ItemRef& known = (**link).sides[side].ref;
    if (!known.empty() && known != row.item.ref) {
      auto original = stage_.listed(side, known);
      if (!original) return std::unexpected(original.error());
      copy = *original;
    }
    if (auto added = add_link(batch, **link); !added) return added;
    if (!copy) return {};
  }
  const Side other_side = other(side);
  if (row.partner) {
    auto partner = stage_.by_ref(other_side, *row.partner);
    if (!partner) return std::unexpected(partner.error());
    if (*partner && !(*partner)->done) add_item(batch, other_side, (*partner)->item, true);
    return {};
  }
  if (row.match_key.empty()) return {};
  // R20 across the whole listing: the first free item of the other side with the same match
  // key, in listing order, exactly as the planner pairs them within one listing. Claimed at
  // once, so the next item of this batch with the same key takes the next one.
  auto free = stage_.first_free(other_side, row.match_key);
  if (!free) return std::unexpected(free.error());
  if (*free) {
    const std::vector<ItemRef> claimed{(*free)->item.ref};
    if (auto marked = stage_.mark_done(other_side, claimed); !marked) return marked;
    add_item(batch, other_side, (*free)->item, true);
  }
  return {};
}

void PagedFullListing::keep_for_report(Plan& plan) {
  const std::size_t limit = engine_.options_.report_plan_limit;
  for (const auto& operation : plan.operations) {
    if (report_.plan.operations.size() < limit) {
      report_.plan.operations.push_back(operation);
    } else {
      ++report_.plan_omitted;
    }
  }
  for (const auto& note : plan.skipped) {
    if (report_.plan.skipped.size() < limit) report_.plan.skipped.push_back(note);
  }
}

Result<void> PagedFullListing::finish(Batch& batch, bool execute) {
  for (Side side : kBothSides) {
    std::vector<ItemRef> missing;
    std::unordered_set<ItemRef> asked;
    for (auto& ref : batch.missing[side]) {
      if (!batch.present[side].contains(ref) && asked.insert(ref).second) missing.push_back(ref);
    }
    if (missing.empty()) continue;
    auto found = engine_.fetch_all(side, missing);
    if (!found) return std::unexpected(found.error());
    std::unordered_set<ItemRef> alive;
    for (const auto& item : *found) {
      alive.insert(item.ref);
      add_item(batch, side, item, false);
    }
    for (const auto& ref : missing) {
      if (!alive.contains(ref)) batch.input.reports[side].deleted.push_back(ref);
    }
  }
  for (auto& [key, link] : batch.links) batch.input.links.push_back(std::move(link));
  batch.input.full_listing = true;
  batch.input.now = now_;
  Plan plan = make_plan(batch.input, engine_.options_.policy);
  for (Side side : kBothSides) {
    if (batch.take[side].empty()) continue;
    if (auto marked = stage_.mark_done(side, batch.take[side]); !marked) return marked;
  }
  keep_for_report(plan);
  if (!execute) {
    add_counts(counted_, summarize(plan));
    return {};
  }
  StateDelta delta;
  PerSide<OwnWrites> own;
  auto applied = engine_.apply_plan(plan, report_, delta, own, done_);
  if (!applied) return std::unexpected(applied.error());
  all_ok_ = all_ok_ && *applied;
  for (Side side : kBothSides) {
    wrote_[side] = wrote_[side] || !own[side].empty();
    deleted_[side].insert(own[side].deleted.begin(), own[side].deleted.end());
  }
  if (auto committed = engine_.state_.commit(delta); !committed) return committed;
  engine_.step(CycleStep::kBatchCommitted);
  return {};
}

Result<void> PagedFullListing::drive(Side driver, bool execute) {
  std::int64_t after = 0;
  for (;;) {
    auto rows = stage_.next_batch(driver, after, engine_.options_.full_batch);
    if (!rows) return std::unexpected(rows.error());
    if (rows->empty()) return {};
    after = rows->back().seq;
    Batch batch;
    for (const auto& row : *rows) {
      // Pulled in by an earlier item of this batch (the original of a copy).
      if (batch.present[driver].contains(row.item.ref)) continue;
      if (auto added = add_driver(batch, driver, row); !added) return added;
    }
    if (auto done = finish(batch, execute); !done) return done;
  }
}

Result<void> PagedFullListing::unlisted_links(bool execute) {
  IdempotencyKey after;
  for (;;) {
    auto links = engine_.state_.links_after(after, engine_.options_.full_batch);
    if (!links) return std::unexpected(links.error());
    if (links->empty()) return {};
    after = links->back().key;
    Batch batch;
    for (const auto& link : *links) {
      bool listed = false;
      for (Side side : kBothSides) {
        if (!listed && !link.sides[side].ref.empty()) {
          auto staged = stage_.listed(side, link.sides[side].ref);
          if (!staged) return std::unexpected(staged.error());
          listed = *staged;
        }
      }
      for (Side side : kBothSides) {
        if (listed) break;
        auto carrier = stage_.carrying(side, link.key);
        if (!carrier) return std::unexpected(carrier.error());
        listed = carrier->has_value();
      }
      // A listed item brought its link to a batch of the drive passes.
      if (!listed) {
        if (auto added = add_link(batch, link); !added) return added;
      }
    }
    if (batch.links.empty()) continue;
    if (auto done = finish(batch, execute); !done) return done;
  }
}

std::optional<Cursor> PagedFullListing::cursor_past(Side which, const Cursor& from) {
  // An empty cursor would read as "now" and prove nothing.
  if (from.empty()) return std::nullopt;
  auto& state = engine_.state_;
  CalendarSide& side = engine_.side(which);
  // Page by page, so the check holds a page, not the run's writes: every change the feed
  // reports must be one the links already hold (the version they recorded), every deletion
  // one this run made. A failed read costs only the echoes next time.
  auto known = [&](const ItemRef& ref, const VersionTag& version) {
    auto link = state.glance_by_ref(which, ref);
    return link && *link && !version.empty() && (**link).version == version;
  };
  Cursor position = from;
  for (std::size_t page = 0; page < engine_.options_.max_pages; ++page) {
    auto batch = side.changes_since(position);
    if (!batch) return std::nullopt;
    const bool versioned = batch->changed_versions.size() == batch->changed.size();
    std::vector<ItemRef> unversioned;
    for (std::size_t i = 0; i < batch->changed.size(); ++i) {
      if (!versioned) {
        unversioned.push_back(batch->changed[i]);
      } else if (!known(batch->changed[i], batch->changed_versions[i])) {
        return std::nullopt;
      }
    }
    for (const auto& ref : batch->deleted) {
      if (!deleted_[which].contains(ref)) return std::nullopt;
    }
    if (!unversioned.empty()) {
      auto items = engine_.fetch_all(which, unversioned);
      if (!items || items->size() != unversioned.size()) return std::nullopt;
      for (const auto& item : *items) {
        if (!known(item.ref, item.version)) return std::nullopt;
      }
    }
    position = std::move(batch->next);
    if (batch->complete) return position;
  }
  return std::nullopt;
}

Result<void> PagedFullListing::run(const FullListingStart& start) {
  const auto& options = engine_.options_;
  auto& state = engine_.state_;
  report_.full_listing = true;
  // Counted after recovery, under the pair's lock: no link exists until this run commits one.
  no_links_at_start_ = start.links_before == 0;
  if (auto cleared = stage_.clear(); !cleared) return cleared;
  PerSide<Cursor> next;
  for (Side which : kBothSides) {
    if (auto staged = stage_side(which, next[which]); !staged) return staged;
    if (listed_[which] == 0 && start.links_before >= options.breaker.min_items && !start.approved) {
      // R38: a side that suddenly lists empty while many items are linked is a broken read
      // or a wrong mailbox, not a mass deletion (engine.cpp says the same for the unpaged run).
      (void)stage_.clear();
      return fail(ErrorKind::kInvalidData,
                  fmt::format("{} listed no items while {} are linked; refusing to treat that "
                              "as deletions. Check the mailbox address and the service "
                              "account's rights (`agendasync doctor`), then sync again",
                              engine_.side(which).describe(), start.links_before),
                  "EmptyListing");
    }
  }
  if (auto repairs = engine_.record_text_repairs(report_, now_, false); !repairs) return repairs;
  engine_.step(CycleStep::kRead);

  // R38 breaker, as engine.cpp applies it to an unpaged run: a counting pass plans every
  // batch without writing, then the same batches run for real. A pair's very first sync
  // (nothing linked) has nothing to protect and skips the count.
  if (!start.approved && start.links_before > 0) {
    for (Side driver : kBothSides) {
      if (auto counted = drive(driver, false); !counted) return counted;
    }
    if (auto counted = unlisted_links(false); !counted) return counted;  // links exist here
    report_.summary = counted_;
    for (Side target : kBothSides) {
      const SideCounts& counts = counted_.sides[target];
      const std::size_t size = std::max(start.links_before, listed_[target]);
      const std::size_t changes =
          (start.first_sync_unfinished ? 0 : counts.created) + counts.deleted;
      if (options.breaker.trips(changes, size)) {
        report_.quarantine_reason = fmt::format(
            "the run would create {} and delete {} items on {} ({} items linked), more than "
            "{:.0f}% of the calendar",
            counts.created, counts.deleted, engine_.side(target).describe(), size,
            options.breaker.max_share * 100);
        break;
      }
    }
    if (!report_.quarantine_reason.empty()) {
      (void)stage_.clear();
      if (auto stored = state.set_quarantine(report_.quarantine_reason); !stored) return stored;
      report_.outcome = RunOutcome::kQuarantined;
      return {};
    }
    if (auto rewound = stage_.rewind(); !rewound) return rewound;
    report_.plan = {};
    report_.plan_omitted = 0;
  }

  for (Side driver : kBothSides) {
    if (auto done = drive(driver, true); !done) return done;
  }
  // On a pair's very first sync every link is this run's, made from a listed item.
  if (start.links_before > 0) {
    if (auto done = unlisted_links(true); !done) return done;
  }
  if (auto repairs = engine_.record_text_repairs(report_, now_, false); !repairs) return repairs;

  StateDelta delta;
  // Cursors move only when every write landed; else the next run lists again, and what this
  // run linked is then found by its links (no duplicates).
  if (all_ok_) {
    for (Side which : kBothSides) {
      Cursor cursor = next[which];
      if (wrote_[which]) {
        if (auto past = cursor_past(which, next[which])) {
          cursor = std::move(*past);
          report_.cursor_past_writes[which] = true;
        }
      }
      if (cursor != start.stored_cursors[which]) delta.cursors[which] = std::move(cursor);
    }
  }
  delta.clear_quarantine = start.approved;
  if (auto committed = state.commit(delta); !committed) return committed;
  engine_.step(CycleStep::kCommitted);
  if (auto cleared = stage_.clear(); !cleared) return cleared;
  report_.summary = done_;
  report_.outcome = all_ok_ ? RunOutcome::kSynced : RunOutcome::kPartial;
  return {};
}

}  // namespace agendasync::sync
