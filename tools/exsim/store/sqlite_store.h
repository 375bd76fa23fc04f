#pragma once
/// Write-through persistence of the store in SQLite (`--store sqlite:PATH`): every item write,
/// removal and outbox message is saved as it happens, and loaded again at start, so that ids,
/// ChangeKeys and sync states stay valid across restarts.
#include <memory>
#include <string>

#include "exsim/store/store.h"

struct sqlite3;

namespace exsim {

class SqlitePersistence final : public StoreObserver {
 public:
  /// Opens (creating if needed) the database; nullptr with a message on failure.
  static std::unique_ptr<SqlitePersistence> open(const std::string& path, std::string& error);
  ~SqlitePersistence() override;

  /// Loads saved mailboxes (in their saved order, so that ids keep their meaning), items,
  /// tombstones and outbox into `store`.
  bool load(Store& store, std::string& error);
  /// The secret that signs sync states: the saved one, or `fallback` saved for next time.
  std::string state_key(const std::string& fallback);
  /// Saves a mailbox (address, name) so that its index survives restarts.
  void save_mailbox(const Mailbox& mb);

  void item_saved(const Mailbox& mb, const StoredItem& item) override;
  void item_removed(const Mailbox& mb, const Tombstone& tombstone) override;
  void mail_recorded(const OutboxMessage& message) override;

 private:
  explicit SqlitePersistence(sqlite3* db) : db_(db) {}
  bool exec(const char* sql);
  sqlite3* db_;
};

}  // namespace exsim
