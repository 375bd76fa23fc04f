#include "exsim/store/ids.h"

#include <gtest/gtest.h>

namespace exsim {
namespace {

TEST(Ids, ItemAndOccurrenceIdsRoundTrip) {
  ItemKey key{3, 42, std::chrono::sys_seconds{std::chrono::seconds{1700000000}}};
  auto back = decode_item_id(encode_item_id(key));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->mailbox, 3u);
  EXPECT_EQ(back->item, 42u);
  EXPECT_EQ(back->occurrence, key.occurrence);
  EXPECT_FALSE(decode_item_id("AAAA"));
}

TEST(Ids, ChangeKeyNamesItsItem) {
  EXPECT_EQ(decode_change_key(encode_change_key(7, 9), 7), 9u);
  EXPECT_FALSE(decode_change_key(encode_change_key(7, 9), 8));
}

TEST(Ids, SyncStateCannotBeForgedOrMoved) {
  SyncStateCodec codec("secret"), other("other");
  std::string s = codec.encode(1, FolderKind::kCalendar, 77);
  EXPECT_EQ(codec.decode(s, 1, FolderKind::kCalendar), 77u);
  EXPECT_FALSE(other.decode(s, 1, FolderKind::kCalendar));
  EXPECT_FALSE(codec.decode(s, 2, FolderKind::kCalendar));
  std::string tampered = s;
  tampered[10] = tampered[10] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(codec.decode(tampered, 1, FolderKind::kCalendar));
}

}  // namespace
}  // namespace exsim
