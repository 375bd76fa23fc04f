#include "store/sync_state/pair_lock.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <thread>
#include <utility>

namespace agendasync::store {

namespace {

/// FNV-1a: stable across processes and builds (std::hash is neither promised).
std::uint64_t byte_of(std::string_view pair) {
  std::uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : pair) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return hash & ((std::uint64_t{1} << 40) - 1);
}

}  // namespace

/// One descriptor of the lock file and the bytes locked on it (by this process, through it).
struct PairLock::Shared {
  explicit Shared(int opened) : fd(opened) {}
  ~Shared() { ::close(fd); }
  const int fd;
  std::mutex mutex;
  std::set<std::uint64_t> held;
};

namespace {

std::string lock_file_of(const std::filesystem::path& state_path) {
  return state_path.string() + ".pairs.lock";
}

Result<int> open_lock_file(const std::string& file) {
  int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return fail(ErrorKind::kPermission,
                "cannot open the pair lock file " + file + ": " + std::strerror(errno) +
                    "; its folder must be writable by the user agendasync runs as");
  }
  return fd;
}

struct flock byte_range(short type, std::uint64_t byte) {
  struct flock range {};
  range.l_type = type;
  range.l_whence = SEEK_SET;
  range.l_start = static_cast<off_t>(byte);
  range.l_len = 1;
  return range;
}

/// Locks `byte` of `fd`, waiting up to `wait` while another descriptor holds it.
Result<void> lock_byte(int fd, std::uint64_t byte, std::string_view pair, const std::string& file,
                       std::chrono::milliseconds wait) {
  struct flock range = byte_range(F_WRLCK, byte);
  const auto deadline = std::chrono::steady_clock::now() + wait;
  for (;;) {
    if (::fcntl(fd, F_OFD_SETLK, &range) == 0) return {};
    int error = errno;
    if (error != EAGAIN && error != EACCES) {
      return fail(ErrorKind::kPermanent,
                  "cannot lock the pair lock file " + file + ": " + std::strerror(error));
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return fail(ErrorKind::kTransient,
                  "the pair of " + std::string(pair) +
                      " is being synced by another agendasync process (the daemon or another "
                      "`agendasync sync`); it did not finish within " +
                      std::to_string(wait.count() / 1000) +
                      " s. Nothing was changed; retry later (the daemon syncs it anyway)");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
}

}  // namespace

Result<PairLock> PairLock::acquire(const std::filesystem::path& state_path, std::string_view pair,
                                   std::chrono::milliseconds wait) {
  const std::string file = lock_file_of(state_path);
  auto fd = open_lock_file(file);
  if (!fd) return std::unexpected(fd.error());
  if (auto locked = lock_byte(*fd, byte_of(pair), pair, file, wait); !locked) {
    ::close(*fd);
    return std::unexpected(locked.error());
  }
  return PairLock(*fd);
}

PairLock::PairLock(PairLock&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), shared_(std::move(other.shared_)), byte_(other.byte_) {}

PairLock::~PairLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the description releases its OFD lock
  if (shared_) {
    std::lock_guard lock(shared_->mutex);
    struct flock range = byte_range(F_UNLCK, byte_);
    (void)::fcntl(shared_->fd, F_OFD_SETLK, &range);
    shared_->held.erase(byte_);
  }
}

PairLockFile::PairLockFile(std::filesystem::path state_path) : state_path_(std::move(state_path)) {}

Result<PairLock> PairLockFile::acquire(std::string_view pair, std::chrono::milliseconds wait) {
  const std::string file = lock_file_of(state_path_);
  if (!shared_) {
    auto fd = open_lock_file(file);
    if (!fd) return std::unexpected(fd.error());
    shared_ = std::make_shared<PairLock::Shared>(*fd);
  }
  const std::uint64_t byte = byte_of(pair);
  {
    std::lock_guard lock(shared_->mutex);
    // Taken through this descriptor already: a lock of the same descriptor would not wait.
    if (shared_->held.contains(byte)) return PairLock::acquire(state_path_, pair, wait);
    // Marked before the wait, so a second caller here takes the separate path above.
    shared_->held.insert(byte);
  }
  if (auto locked = lock_byte(shared_->fd, byte, pair, file, wait); !locked) {
    std::lock_guard lock(shared_->mutex);
    shared_->held.erase(byte);
    return std::unexpected(locked.error());
  }
  return PairLock(shared_, byte);
}

}  // namespace agendasync::store
