// The planner: status + observations + policies -> operations. Pure and deterministic.
// README.md carries the decision table; each branch below says which row it handles.
#include "sync/plan.h"

#include <fmt/format.h>

#include <deque>
#include <map>
#include <unordered_map>

#include "core/canonical.h"
#include "sync/identity.h"
#include "sync/merge.h"

namespace agendasync::sync {

const IdempotencyKey& link_of(const Operation& operation) {
  return std::visit(
      [](const auto& op) -> const IdempotencyKey& {
        using T = std::decay_t<decltype(op)>;
        if constexpr (std::is_same_v<T, LinkOp>) {
          return op.record.key;
        } else {
          return op.link;
        }
      },
      operation);
}

namespace {

/// How one side's copy of a linked item stands this cycle.
enum class Seen {
  kUnchanged,  ///< not reported, or reported with the version we stored (our own echo)
  kTouched,    ///< new version tag, same content (flaky tags, host-only noise): record only
  kChanged,    ///< new version tag and new content
  kDeleted,    ///< reported deleted (feed) or proved gone (full listing)
  kGone,       ///< already gone and left deleted (R25 tombstone)
};

struct Entity {
  LinkRecord link;
  PerSide<std::optional<Observed>> item;
  PerSide<bool> deleted;
  PerSide<bool> relinked;  ///< found under a new ref by its key (resync, moved mailbox)
};

class Planner {
 public:
  Planner(const PlanInput& input, const PlanPolicy& policy) : in_(input), policy_(policy) {}

  Plan run() {
    index_links();
    attach_observations();
    for (auto& [key, entity] : entities_) plan_linked(entity);
    match_unlinked();
    for (Side side : kBothSides) {
      for (const auto& observed : unlinked_[side]) {
        if (!matched_[side].contains(observed.item.ref)) plan_new(side, observed);
      }
    }
    return std::move(plan_);
  }

 private:
  void index_links() {
    for (const auto& link : in_.links) {
      links_by_key_[link.key] = &link;
      for (Side side : kBothSides) {
        if (!link.sides[side].ref.empty()) by_ref_[side][link.sides[side].ref] = link.key;
      }
    }
  }

  Entity& entity(const IdempotencyKey& key) {
    auto [it, inserted] = entities_.try_emplace(key);
    if (inserted) it->second.link = *links_by_key_.at(key);
    return it->second;
  }

  bool known_alive(Side side, const ItemRef& ref, const std::unordered_set<ItemRef>& deleted,
                   const std::unordered_set<ItemRef>& observed) const {
    if (ref.empty() || deleted.contains(ref)) return false;
    return observed.contains(ref) || in_.reports[side].existing.contains(ref);
  }

  void attach_observations() {
    for (Side side : kBothSides) {
      const SideReport& report = in_.reports[side];
      const std::unordered_set<ItemRef> deleted(report.deleted.begin(), report.deleted.end());
      std::unordered_set<ItemRef> observed;
      for (const auto& obs : report.items) observed.insert(obs.item.ref);

      for (Observed obs : report.items) {
        if (auto linked = by_ref_[side].find(obs.item.ref); linked != by_ref_[side].end()) {
          entity(linked->second).item[side] = obs;
          continue;
        }
        const auto& key = obs.item.idempotency_key;
        if (key && links_by_key_.contains(*key)) {
          const ItemRef& known = links_by_key_.at(*key)->sides[side].ref;
          Entity& target = entity(*key);
          if (!known_alive(side, known, deleted, observed) && !target.item[side]) {
            // Our item under a new ref, the old one gone: the same item (resync, R27; a
            // mailbox moved between backends, R41). Relink, never recreate.
            target.item[side] = obs;
            target.relinked[side] = true;
            continue;
          }
          // The original still exists: this is a copy a person made (it carries our key).
          // It is their new item, not ours: sync it as new, under its own key.
          obs.item.idempotency_key.reset();
        }
        unlinked_[side].push_back(std::move(obs));
      }
      for (const auto& ref : report.deleted) {
        if (auto linked = by_ref_[side].find(ref); linked != by_ref_[side].end()) {
          entity(linked->second).deleted[side] = true;
        }
      }
    }
  }

  Seen seen(const Entity& e, Side side) const {
    const SideState& stored = e.link.sides[side];
    if (e.item[side]) {
      const SideItem& item = e.item[side]->item;
      const bool same_content = item_fingerprint(side, item.item) == stored.hash;
      if (e.relinked[side]) return same_content ? Seen::kTouched : Seen::kChanged;
      if (item.version == stored.version) return Seen::kUnchanged;  // our own write's echo
      return same_content ? Seen::kTouched : Seen::kChanged;
    }
    if (stored.ref.empty()) return Seen::kGone;
    if (e.deleted[side]) return Seen::kDeleted;
    return Seen::kUnchanged;
  }

  /// The item as `side` holds it now: what it reported, else the base. A report with the
  /// version we stored is our own write coming back: its content is the base by definition.
  const Appointment& actual(const Entity& e, Side side) const {
    if (!e.item[side] || seen(e, side) == Seen::kUnchanged) {
      return e.link.sides[side].held ? *e.link.sides[side].held : e.link.base;
    }
    return e.item[side]->item.item;
  }

  /// What a changed side contributes to the merge. A side holding stale content (its last
  /// write failed) has its own edits rebased onto the base: only what the person changed
  /// since counts as a change, not the fields it never received.
  Appointment contribution(const Entity& e, Side side) const {
    const Appointment& now = actual(e, side);
    const auto& held = e.link.sides[side].held;
    if (!held) return now;
    return side == Side::kHost ? merge3(*held, now, e.link.base, Side::kHost).merged
                               : merge3(*held, e.link.base, now, Side::kRemote).merged;
  }

  SideState current_state(const Entity& e, Side side) const {
    if (!e.item[side]) return e.link.sides[side];
    const SideItem& item = e.item[side]->item;
    return {item.ref, item.version, item_fingerprint(side, item.item), std::nullopt};
  }

  Side winner_for(const Entity& e) const {
    if (policy_.direction == SyncDirection::kToExchange) return Side::kHost;
    if (policy_.direction == SyncDirection::kFromExchange) return Side::kRemote;
    auto modified = [&](Side side) {
      return e.item[side] ? e.item[side]->item.last_modified : std::optional<Instant>{};
    };
    return conflict_winner(policy_.conflict_policy, modified(Side::kHost), modified(Side::kRemote));
  }

  std::string direction_rule() const {
    switch (policy_.direction) {
      case SyncDirection::kToExchange:
        return "R19 to-exchange";
      case SyncDirection::kFromExchange:
        return "R15/R19 from-exchange";
      case SyncDirection::kTwoWay:
        return "R19 two-way";
    }
    return "R19";
  }

  bool accepts(Side side) const { return accepts_changes_from(policy_.direction, side); }

  /// The item to write on `side`: the remote never receives host-only fields.
  static Appointment for_side(Side side, const Appointment& item) {
    return side == Side::kRemote ? without_host_fields(item) : item;
  }

  void plan_linked(Entity& e) {
    const PerSide<Seen> state{{seen(e, Side::kHost), seen(e, Side::kRemote)}};
    const auto deleted_or_gone = [&](Side side) {
      return state[side] == Seen::kDeleted || state[side] == Seen::kGone;
    };
    const IdempotencyKey& key = e.link.key;

    // Row: deleted on both sides (or deleted where the other is already left deleted).
    if (deleted_or_gone(Side::kHost) && deleted_or_gone(Side::kRemote)) {
      plan_.operations.push_back(ForgetOp{key, "deleted on both sides"});
      return;
    }
    for (Side side : kBothSides) {
      const Side other_side = other(side);
      if (state[side] == Seen::kGone) {
        // Row: R25 tombstone; the other side lives on. Only record its new version. A side
        // still to be found by its key after a backend switch (R41) lands here too while the
        // new backend has not shown it: nothing is deleted on the strength of not finding it.
        record_versions(e, e.link.base, false,
                        e.link.sides[side].refind
                            ? "R41 not yet found by its key on the new backend: left as it is"
                            : "R25 left deleted in Exchange");
        return;
      }
      if (state[side] != Seen::kDeleted) continue;
      if (accepts(side)) {
        if (policy_.direction == SyncDirection::kTwoWay && state[other_side] == Seen::kChanged) {
          // Row: deleted here, edited there. An edit is data a person made; a deletion of
          // it would lose that, so the edited item comes back (R24: never lose silently).
          recreate(e, side, "R24 edited on one side, deleted on the other: edit kept");
          return;
        }
        // Row: deleted here, the deletion flows by direction (R25).
        plan_.operations.push_back(
            DeleteOp{other_side, key, current_state(e, other_side).ref,
                     current_state(e, other_side).version, actual(e, other_side),
                     fmt::format("R25 deleted on {}; {}", to_string(side), direction_rule())});
        plan_.operations.push_back(ForgetOp{key, "R25 deletion propagated"});
        return;
      }
      // Row: deleted on a side whose changes do not flow.
      if (side == Side::kRemote &&
          policy_.deleted_in_exchange == DeletedInExchange::kLeaveDeleted) {
        LinkRecord record = e.link;
        record.sides[Side::kRemote] = {};
        record.sides[Side::kHost] = current_state(e, Side::kHost);
        plan_.operations.push_back(
            LinkOp{record, false, "R25 deleted in Exchange under to-exchange: left deleted"});
        return;
      }
      recreate(e, side,
               side == Side::kRemote
                   ? "R25 deleted in Exchange under to-exchange: recreated"
                   : "R15 read-only Exchange item deleted in the host: recreated");
      return;
    }
    plan_sync(e, state);
  }

  /// Creates the item again on `side` from the other side's content, under the same link.
  void recreate(const Entity& e, Side side, const std::string& rule) {
    const Side source = other(side);
    Appointment item = actual(e, source);
    if (side == Side::kHost) item = with_host_fields(item, e.link.base);
    LinkRecord pending = e.link;
    pending.sides[source] = current_state(e, source);
    pending.sides[side] = {};
    pending.base = side == Side::kHost ? item : actual(e, Side::kHost);
    pending.created_on = side;
    plan_.operations.push_back(CreateOp{side, e.link.key, for_side(side, item), pending,
                                        side == Side::kHost && read_only_in_host(),
                                        policy_.send_invitations, rule});
  }

  bool read_only_in_host() const { return policy_.direction == SyncDirection::kFromExchange; }

  /// A remote item's content with the host-only fields of `host_fields`.
  static Appointment with_host_fields(Appointment item, const Appointment& host_fields) {
    item.activity_type = host_fields.activity_type;
    item.project_task = host_fields.project_task;
    item.owner = host_fields.owner;
    item.participants = host_fields.participants;
    return item;
  }

  /// Neither side deleted: three-way merge of what each side may contribute.
  void plan_sync(Entity& e, const PerSide<Seen>& state) {
    PerSide<Appointment> accepted;
    for (Side side : kBothSides) {
      // A change from a side whose changes do not flow is not merged: the base stands and
      // the write below puts it back (one-way mirror, R19).
      accepted[side] =
          (state[side] == Seen::kChanged && accepts(side)) ? contribution(e, side) : e.link.base;
    }
    const Side winner = winner_for(e);
    MergeResult merge = merge3(e.link.base, accepted[Side::kHost], accepted[Side::kRemote], winner);
    keep_existing_type(e, merge.merged);
    record_or_write(e, state, merge, winner, std::nullopt);
  }

  /// R16: an activity type the admin renamed or removed cannot be put back (the host refuses
  /// a type that does not exist, on every run). The host's own type stands then, also under
  /// from-Exchange, where other host changes are put back.
  void keep_existing_type(const Entity& e, Appointment& merged) const {
    const auto& types = policy_.activity_types.existing_types;
    if (types.empty() || merged.activity_type.empty() || types.contains(merged.activity_type) ||
        !e.item[Side::kHost]) {
      return;
    }
    merged.activity_type = actual(e, Side::kHost).activity_type;
  }

  /// Writes each side that differs from `merge.merged`, then records the link.
  /// `new_link_rule` set: a fresh pairing (R20/R27) rather than an existing link.
  void record_or_write(const Entity& e, const PerSide<Seen>& state, const MergeResult& merge,
                       Side winner, const std::optional<std::string>& new_link_rule) {
    const bool is_new = new_link_rule.has_value();
    const IdempotencyKey& key = e.link.key;
    const Appointment& merged = merge.merged;
    if (accepts(Side::kHost) && !is_new && e.link.created_on != Side::kHost &&
        !policy_.activity_types.syncs_to_remote(merged)) {
      // Row: a host item (not one that came from Exchange) no longer qualifies (type changed,
      // became a project task, R16). Remove what we put in Exchange; a person's own item is only
      // unlinked.
      if (e.link.created_on == Side::kRemote) {
        plan_.operations.push_back(DeleteOp{Side::kRemote, key, current_state(e, Side::kRemote).ref,
                                            current_state(e, Side::kRemote).version,
                                            actual(e, Side::kRemote),
                                            "R16 activity type no longer synced"});
      }
      plan_.operations.push_back(ForgetOp{key, "R16 activity type no longer synced"});
      return;
    }
    if (!merge.conflicts.empty() && !is_new) {
      plan_.operations.push_back(ResolveConflictOp{key, merge.conflicts, winner,
                                                   policy_.conflict_policy,
                                                   "R24 both sides changed the same field"});
    }
    bool writes = false;
    bool stamp = needs_stamp(e.item[Side::kRemote], key);
    for (Side side : kBothSides) {
      const Appointment& now = actual(e, side);
      if (item_fingerprint(side, merged) == item_fingerprint(side, now)) continue;
      writes = true;
      std::string rule;
      if (state[side] == Seen::kChanged && !accepts(side)) {
        rule = fmt::format("{}: edit on {} reverted", direction_rule(), to_string(side));
      } else if (is_new) {
        rule = "R20 linked items differ: aligned";
      } else if (!merge.conflicts.empty()) {
        rule = "R24 merged";
      } else {
        rule = fmt::format("{}: changed on {}", direction_rule(), to_string(other(side)));
      }
      const bool stamp_here = side == Side::kRemote && stamp;
      plan_.operations.push_back(UpdateOp{side, key, current_state(e, side).ref,
                                          current_state(e, side).version, for_side(side, merged),
                                          now, policy_.send_invitations, stamp_here, rule});
      if (stamp_here) stamp = false;
    }
    if (stamp) plan_.operations.push_back(stamp_op(e.item[Side::kRemote]->item, key));
    const bool noted = state[Side::kHost] != Seen::kUnchanged ||
                       state[Side::kRemote] != Seen::kUnchanged || e.relinked[Side::kHost] ||
                       e.relinked[Side::kRemote] || needs_stamp(e.item[Side::kRemote], key);
    if (writes || noted || is_new) {
      LinkRecord record = e.link;
      for (Side side : kBothSides) {
        record.sides[side] = current_state(e, side);
        // Written sides get their new state from the write; the others hold `merged` now.
        record.sides[side].held.reset();
      }
      record.base = merged;
      plan_.operations.push_back(LinkOp{record, is_new, new_link_rule.value_or("status updated")});
    }
  }

  /// R41: a remote item of a link that does not carry the link's key (an Outlook item, an
  /// R20 match, a person's copy that carries another link's key, a link from before R41).
  bool needs_stamp(const std::optional<Observed>& remote, const IdempotencyKey& key) const {
    return policy_.stamp_keys && remote && remote->item.idempotency_key != key;
  }

  static StampKeyOp stamp_op(const SideItem& remote, const IdempotencyKey& key) {
    return StampKeyOp{Side::kRemote, key,
                      remote.ref,    remote.version,
                      remote.item,   "R41 the link's key stamped on the Exchange item"};
  }

  void record_versions(const Entity& e, const Appointment& base, bool is_new,
                       const std::string& rule) {
    LinkRecord record = e.link;
    for (Side side : kBothSides) {
      if (!record.sides[side].ref.empty() || e.item[side])
        record.sides[side] = current_state(e, side);
    }
    record.base = base;
    if (record == e.link) return;
    plan_.operations.push_back(LinkOp{record, is_new, rule});
  }

  bool matchable(Side side, const Observed& observed) const {
    return r20_matchable(policy_, side, observed.item.item);
  }

  void match_unlinked() {
    // First by idempotency key (R27: items we created find their partner even when the
    // status is gone), then by the R20 match key, 1:1 in listing order.
    PerSide<std::unordered_map<IdempotencyKey, const Observed*>> keyed;
    for (Side side : kBothSides) {
      for (const auto& obs : unlinked_[side]) {
        if (obs.item.idempotency_key) keyed[side][*obs.item.idempotency_key] = &obs;
      }
    }
    for (Side side : kBothSides) {
      for (const auto& obs : unlinked_[side]) {
        if (matched_[side].contains(obs.item.ref) || !matchable(side, obs)) continue;
        const IdempotencyKey key = derive_key(policy_.pair_id, side, obs.item.ref);
        auto partner = keyed[other(side)].find(key);
        if (partner == keyed[other(side)].end() ||
            matched_[other(side)].contains(partner->second->item.ref)) {
          continue;
        }
        const Observed& host = side == Side::kHost ? obs : *partner->second;
        const Observed& remote = side == Side::kHost ? *partner->second : obs;
        link_pair(key, host, remote, "R27 matched by idempotency key");
      }
    }
    std::map<std::string, std::deque<const Observed*>> by_match_key;
    for (const auto& obs : unlinked_[Side::kRemote]) {
      if (!matched_[Side::kRemote].contains(obs.item.ref))
        by_match_key[match_key(obs.item.item)].push_back(&obs);
    }
    for (const auto& host : unlinked_[Side::kHost]) {
      if (matched_[Side::kHost].contains(host.item.ref) || !matchable(Side::kHost, host)) continue;
      auto found = by_match_key.find(match_key(host.item.item));
      if (found == by_match_key.end() || found->second.empty()) continue;
      const Observed* remote = found->second.front();
      found->second.pop_front();
      link_pair(derive_key(policy_.pair_id, Side::kHost, host.item.ref), host, *remote,
                "R20 matched by subject, start, end and recurrence");
    }
  }

  void link_pair(const IdempotencyKey& key, const Observed& host, const Observed& remote,
                 const std::string& rule) {
    matched_[Side::kHost].insert(host.item.ref);
    matched_[Side::kRemote].insert(remote.item.ref);
    Entity e;
    e.link.key = key;
    e.link.base = host.item.item;
    // Matched by our key: the side carrying it holds an item the sync created (R40).
    for (Side side : kBothSides) {
      const Observed& mine = side == Side::kHost ? host : remote;
      if (mine.item.idempotency_key == key) e.link.created_on = side;
    }
    e.item[Side::kHost] = host;
    e.item[Side::kRemote] = remote;
    // No common ancestor: every differing field is settled by the direction, else by the
    // conflict policy (R20 + R24). Differences of a first pairing are not edits, so no R24
    // conflict is reported for them.
    const Side winner = winner_for(e);
    const MergeResult merge = merge3(std::nullopt, host.item.item, remote.item.item, winner);
    record_or_write(e, {{Seen::kChanged, Seen::kChanged}}, merge, winner, rule);
  }

  void plan_new(Side side, const Observed& obs) {
    const Appointment& item = obs.item.item;
    const std::string label =
        fmt::format("{} {} '{}'", to_string(side), obs.item.ref.str(), item.subject);
    if (in_.full_listing && ended_too_long_ago(item, in_.now, policy_.skip_ended_after)) {
      plan_.skipped.push_back(label + ": R21 ended too long ago");
      return;
    }
    if (!accepts(side)) {
      plan_.skipped.push_back(label + ": " + direction_rule() + " leaves it on its side");
      return;
    }
    const Side target = other(side);
    Appointment written = item;
    if (side == Side::kHost) {
      if (!policy_.activity_types.syncs_to_remote(item)) {
        plan_.skipped.push_back(label + ": R16 activity type not synced to Exchange");
        return;
      }
    } else {
      // R16: what a remote item becomes in the host.
      written.activity_type = policy_.activity_types.host_type_for(item);
      written.owner = policy_.host_user;
    }
    const IdempotencyKey key = derive_key(policy_.pair_id, side, obs.item.ref);
    LinkRecord pending;
    pending.key = key;
    pending.sides[side] = {obs.item.ref, obs.item.version, item_fingerprint(side, item),
                           std::nullopt};
    pending.base = side == Side::kHost ? item : written;
    pending.created_on = target;
    plan_.operations.push_back(
        CreateOp{target, key, for_side(target, written), pending,
                 target == Side::kHost && read_only_in_host(), policy_.send_invitations,
                 fmt::format("{}: new on {}", direction_rule(), to_string(side))});
    // An Outlook item now linked: it carries the key too, so another backend finds it (R41).
    if (side == Side::kRemote && needs_stamp(obs, key)) {
      plan_.operations.push_back(stamp_op(obs.item, key));
    }
  }

  const PlanInput& in_;
  const PlanPolicy& policy_;
  Plan plan_;
  std::unordered_map<IdempotencyKey, const LinkRecord*> links_by_key_;
  PerSide<std::unordered_map<ItemRef, IdempotencyKey>> by_ref_;
  std::map<IdempotencyKey, Entity> entities_;
  PerSide<std::vector<Observed>> unlinked_;
  PerSide<std::unordered_set<ItemRef>> matched_;
};

}  // namespace

Plan make_plan(const PlanInput& input, const PlanPolicy& policy) {
  return Planner(input, policy).run();
}

bool r20_matchable(const PlanPolicy& policy, Side side, const Appointment& item) {
  return side == Side::kRemote || policy.direction == SyncDirection::kFromExchange ||
         policy.activity_types.syncs_to_remote(item);
}

}  // namespace agendasync::sync
