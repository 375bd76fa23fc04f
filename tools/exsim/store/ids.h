#pragma once
/// The opaque identifiers exsim hands out: ItemId, occurrence ItemId, FolderId, ChangeKey and
/// SyncState. All are base64 like Exchange's; sync states carry an HMAC so that a client cannot
/// forge or alter them (a tampered state is ErrorInvalidSyncStateData, as on Exchange).
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace exsim {

/// Folders exsim models per mailbox.
enum class FolderKind : uint8_t {
  kCalendar = 1,
  kDeletedItems = 2,
  kRoot = 3,
  kRecoverableDeletions = 4,  // where SoftDelete puts items
};

/// What an ItemId points at: an item, or one occurrence of a recurring master.
struct ItemKey {
  uint32_t mailbox = 0;
  uint64_t item = 0;
  std::optional<std::chrono::sys_seconds> occurrence;  // original start of the occurrence
};

std::string encode_item_id(const ItemKey& key);
std::optional<ItemKey> decode_item_id(std::string_view id);

std::string encode_folder_id(uint32_t mailbox, FolderKind folder);
std::optional<std::pair<uint32_t, FolderKind>> decode_folder_id(std::string_view id);

std::string encode_change_key(uint64_t item, uint64_t version);
/// The version a ChangeKey names, when it names this item.
std::optional<uint64_t> decode_change_key(std::string_view key, uint64_t item);

/// Signs and verifies sync states with a per-server secret.
class SyncStateCodec {
 public:
  explicit SyncStateCodec(std::string secret);
  std::string encode(uint32_t mailbox, FolderKind folder, uint64_t watermark) const;
  /// The watermark when the state is genuine and belongs to this mailbox and folder.
  std::optional<uint64_t> decode(std::string_view state, uint32_t mailbox, FolderKind folder) const;

 private:
  std::string secret_;
};

std::string base64_encode(std::string_view bytes);
std::optional<std::string> base64_decode(std::string_view text);
/// Random bytes from OpenSSL.
std::string random_bytes(size_t n);

}  // namespace exsim
