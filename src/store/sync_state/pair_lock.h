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
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <set>
#include <string_view>

#include "core/error.h"

namespace agendasync::store {

class PairLockFile;

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
  friend class PairLockFile;
  struct Shared;
  explicit PairLock(int fd) : fd_(fd) {}
  PairLock(std::shared_ptr<Shared> shared, std::uint64_t byte)
      : shared_(std::move(shared)), byte_(byte) {}
  int fd_ = -1;                     ///< a descriptor of its own (closed on release), or -1
  std::shared_ptr<Shared> shared_;  ///< or a byte of a PairLockFile's descriptor
  std::uint64_t byte_ = 0;
};

/// The lock file opened once for a caller that locks pair after pair: an idle cycle over many
/// pairs opened and closed it for each (issue 14's cost per mailbox). A lock taken here is a
/// byte of the one descriptor, released by unlocking that byte. OFD locks of one descriptor
/// do not exclude each other, so a byte this file already holds (the same pair again, or one
/// hashing to the same byte) is taken on a descriptor of its own, which waits for it as any
/// other holder does. Locks may outlive the file object.
class PairLockFile {
 public:
  explicit PairLockFile(std::filesystem::path state_path);
  Result<PairLock> acquire(std::string_view pair, std::chrono::milliseconds wait);

 private:
  std::filesystem::path state_path_;
  std::shared_ptr<PairLock::Shared> shared_;  ///< null until the file opened
};

}  // namespace agendasync::store
