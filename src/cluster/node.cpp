#include "cluster/node.h"

#include "cluster/cluster_schema.h"

namespace agendasync::cluster {

namespace {

/// Set while a wake from another node is handed to the scheduler on this thread: it runs
/// here, whatever this node's view of the ownership says by now (no ping-pong).
thread_local bool delivering_remote_wake = false;

}  // namespace

Result<std::unique_ptr<Node>> Node::open(NodeOptions options) {
  if (options.name.empty()) {
    return fail(ErrorKind::kInvalidData,
                "a node on PostgreSQL needs a name unique among the nodes (serve --node-name)");
  }
  store::pg::PoolOptions pool_options;
  pool_options.max_connections = 4;
  pool_options.fsync_every_commit = false;  // leases and heartbeats are renewed anyway
  auto pool = store::pg::Pool::open(cluster_target(options.database, options.schema), pool_options);
  if (!pool) return std::unexpected(pool.error());
  {
    auto db = (*pool)->borrow();
    if (!db) return std::unexpected(db.error());
    if (auto checked = check_cluster_schema(**db); !checked) {
      return std::unexpected(checked.error());
    }
  }
  std::unique_ptr<Node> node(new Node(std::move(options), std::move(*pool)));
  if (auto joined = node->registry_.join(); !joined) return std::unexpected(joined.error());
  node->listener_.start();
  if (auto loaded = node->holds_->load(); !loaded) return std::unexpected(loaded.error());
  return node;
}

Node::Node(NodeOptions options, std::shared_ptr<store::pg::Pool> pool)
    : options_(std::move(options)),
      pool_(std::move(pool)),
      registry_(pool_, options_.name, options_.version, options_.lease),
      ownership_(pool_, options_.name, options_.lease),
      listener_(options_.database) {
  bus_ = std::make_unique<WakeBus>(pool_, listener_, options_.schema, [this](const Wake& wake) {
    if (!callbacks_.wake) return;
    delivering_remote_wake = true;
    callbacks_.wake(wake);
    delivering_remote_wake = false;
  });
  holds_ = std::make_shared<PgBudgetHolds>(pool_, listener_, options_.schema);
  listener_.on_reconnect([this] {
    if (!callbacks_.rescan) return;
    for (const auto& org : ownership_.owned()) callbacks_.rescan(org);
  });
}

Node::~Node() { stop(); }

void Node::run(NodeCallbacks callbacks) {
  std::lock_guard lock(mutex_);
  if (running_ || stopping_) return;
  callbacks_ = std::move(callbacks);
  running_ = true;
  ticker_ = std::thread([this] { tick_loop(); });
  changer_ = std::thread([this] { change_loop(); });
}

void Node::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  changed_.notify_all();
  if (ticker_.joinable()) ticker_.join();
  // Leave first: the others' fair share rises at once, so they take what we give back.
  (void)registry_.leave();
  // What this node held stops here even when PostgreSQL cannot be told (the leases then
  // expire on their own).
  const auto held = ownership_.owned();
  (void)ownership_.release_all();
  {
    std::lock_guard lock(mutex_);
    for (const auto& org : held) changes_.emplace_back(org, false);
    last_changes_queued_ = true;
  }
  changed_.notify_all();
  if (changer_.joinable()) changer_.join();
  // Anything the changes thread never got to (it was not running): stop the watchers here.
  for (const auto& [org, gained] : changes_) {
    if (!gained && callbacks_.lost) callbacks_.lost(org);
  }
  changes_.clear();
  holds_->stop();
  bus_->stop();
  listener_.stop();
}

bool Node::route(const std::string& org, const std::string& user, const std::string& why,
                 bool safety_net) {
  if (delivering_remote_wake || ownership_.owns(org)) return false;
  if (!safety_net) bus_->publish(Wake{org, user, why});
  return true;
}

void Node::apply(const OwnershipChanges& changes) {
  for (const auto& org : changes.lost) bus_->unfollow(org);
  // LISTEN before the watchers start and the pairs catch up: a wake sent from now on is heard.
  for (const auto& org : changes.gained) bus_->follow(org);
  {
    std::lock_guard lock(mutex_);
    for (const auto& org : changes.lost) changes_.emplace_back(org, false);
    for (const auto& org : changes.gained) changes_.emplace_back(org, true);
  }
  changed_.notify_all();
}

void Node::tick_loop() {
  const auto period =
      std::max<std::chrono::milliseconds>(std::chrono::milliseconds(50), options_.lease / 3);
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    NodeTick tick;
    auto beat = registry_.heartbeat();
    auto live = beat ? registry_.live_nodes() : Result<std::size_t>(std::unexpected(beat.error()));
    if (live) {
      tick.live_nodes = *live;
      const auto orgs =
          callbacks_.organisations ? callbacks_.organisations() : std::vector<std::string>{};
      if (auto changes = ownership_.tick(orgs, *live)) {
        apply(*changes);
      } else {
        tick.ok = false;
        tick.error = changes.error().message;
      }
    } else {
      tick.ok = false;
      tick.error = live.error().message;
    }
    // A failed tick renews nothing: once the last renewal is a lease old, owns() is false
    // everywhere here and the watchers stop (the others take the organisations).
    if (!tick.ok) {
      OwnershipChanges expired;
      for (const auto& org : previous_owned_) {
        if (!ownership_.owns(org)) expired.lost.push_back(org);
      }
      if (!expired.lost.empty()) apply(expired);
    }
    previous_owned_ = ownership_.owned();
    tick.owned = previous_owned_.size();
    tick.renewals = ownership_.renewals();
    if (callbacks_.ticked) callbacks_.ticked(tick);
    lock.lock();
    changed_.wait_for(lock, period, [this] { return stopping_; });
  }
}

void Node::change_loop() {
  std::unique_lock lock(mutex_);
  for (;;) {
    changed_.wait(lock, [this] { return last_changes_queued_ || !changes_.empty(); });
    if (changes_.empty()) return;  // stopping, and the last lost callbacks ran
    auto [org, gained] = changes_.front();
    changes_.pop_front();
    lock.unlock();
    if (gained && callbacks_.gained) callbacks_.gained(org);
    if (!gained && callbacks_.lost) callbacks_.lost(org);
    lock.lock();
  }
}

}  // namespace agendasync::cluster
