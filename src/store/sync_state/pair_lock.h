#pragma once
/// One sync of a pair at a time across processes on one machine: the daemon and
/// `agendasync sync` from the CLI share the sync state file, and two runs of the same pair at
/// once would both create the same new item in the mailbox (EWS CreateItem does not
/// deduplicate).
///
/// An open-file-description lock (F_OFD_SETLK) on one byte, chosen by the pair's name, of a
/// lock file beside the state file (`<state>.pairs.lock`). Not the database file itself:
/// only SQLite opens that (closing any other descriptor of it would drop SQLite's own locks).
/// OFD locks belong to the descriptor, not the process, so the daemon's threads exclude each
/// other too, closing an unrelated descriptor drops nothing, and the kernel releases the lock
/// when its holder dies, SIGKILL included: no stale lease to wait out. Two pair names that hash
/// to the same byte merely take turns.
#include <chrono>
#include <filesystem>
#include <string_view>

#include "core/error.h"

namespace agendasync::store {

class PairLock {
 public:
  /// Takes the lock of `pair`, waiting up to `wait` while another holder has it. kTransient
  /// when it stays taken; kPermission when the lock file cannot be made.
  static Result<PairLock> acquire(const std::filesystem::path& state_path, std::string_view pair,
                                  std::chrono::milliseconds wait);

  PairLock(PairLock&& other) noexcept;
  PairLock& operator=(PairLock&&) = delete;
  PairLock(const PairLock&) = delete;
  ~PairLock();

 private:
  explicit PairLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace agendasync::store
