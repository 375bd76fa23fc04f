#pragma once
/// Reader connections opened when needed and closed when idle. A node serving hundreds of
/// organisations keeps each one's agenda and service tables open; with a fixed set of
/// readers per database every idle organisation held ten SQLite connections (20 file
/// descriptors, ~1.4 MB), whatever it did. Here a pool opens a reader only when every open one
/// is busy (up to `max_open`), hands out the most recently used one first (so the others go
/// idle), and closes readers idle longer than `idle_limit`, keeping `keep_open`.
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "core/error.h"

namespace agendasync::store {

template <class Reader>
class ReaderPool {
 public:
  using Clock = std::chrono::steady_clock;
  using Opener = std::function<Result<std::unique_ptr<Reader>>()>;

  struct Options {
    std::size_t max_open = 4;
    std::size_t keep_open = 1;
    std::chrono::milliseconds idle_limit{std::chrono::seconds(30)};
  };

  ReaderPool(Opener open, Options options) : opener_(std::move(open)), options_(options) {}

  std::size_t max_open() const { return options_.max_open; }

  /// Runs `body(Reader&)` on an idle reader, opening one when every open reader is busy and
  /// the cap allows, else waiting for one.
  template <class F>
  auto with(F&& body) -> decltype(body(std::declval<Reader&>())) {
    using R = decltype(body(std::declval<Reader&>()));
    auto reader = acquire();
    if (!reader) return R(std::unexpected(reader.error()));
    auto result = body(**reader);
    release(std::move(*reader));
    return result;
  }

  /// Closes readers idle longer than the limit (beyond `keep_open`); for a caller that ticks
  /// (a pool nobody reads from closes nothing by itself).
  void trim() {
    std::vector<std::unique_ptr<Reader>> closing;
    {
      std::lock_guard lock(mutex_);
      take_expired(closing);
    }
  }

  /// Readers open now (idle and busy): tests, gauges.
  std::size_t open_count() const {
    std::lock_guard lock(mutex_);
    return open_;
  }

 private:
  struct Idle {
    std::unique_ptr<Reader> reader;
    Clock::time_point since;
  };

  Result<std::unique_ptr<Reader>> acquire() {
    {
      std::unique_lock lock(mutex_);
      changed_.wait(lock, [this] { return !idle_.empty() || open_ < options_.max_open; });
      if (!idle_.empty()) {
        auto reader = std::move(idle_.back().reader);  // most recently used
        idle_.pop_back();
        return reader;
      }
      ++open_;  // a slot for the one opened below, outside the lock (opening does I/O)
    }
    auto opened = opener_();
    if (!opened) {
      {
        std::lock_guard lock(mutex_);
        --open_;
      }
      changed_.notify_one();
      return std::unexpected(opened.error());
    }
    return std::move(*opened);
  }

  void release(std::unique_ptr<Reader> reader) {
    std::vector<std::unique_ptr<Reader>> closing;  // closed after the lock is released
    {
      std::lock_guard lock(mutex_);
      idle_.push_back({std::move(reader), Clock::now()});
      take_expired(closing);
    }
    changed_.notify_one();
  }

  /// Moves idle readers past the limit (the least recently used, at the front) to `out`.
  void take_expired(std::vector<std::unique_ptr<Reader>>& out) {
    const auto now = Clock::now();
    std::size_t expired = 0;
    while (expired < idle_.size() && open_ - expired > options_.keep_open &&
           now - idle_[expired].since > options_.idle_limit) {
      ++expired;
    }
    for (std::size_t i = 0; i < expired; ++i) out.push_back(std::move(idle_[i].reader));
    idle_.erase(idle_.begin(), idle_.begin() + static_cast<std::ptrdiff_t>(expired));
    open_ -= expired;
  }

  Opener opener_;
  Options options_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<Idle> idle_;  ///< least recently used first
  std::size_t open_ = 0;    ///< idle + busy + being opened
};

}  // namespace agendasync::store
