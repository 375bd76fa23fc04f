// A corrupt or foreign file gives a clear error naming the file, and changes nothing.
#include <gtest/gtest.h>

#include "store/sqlite_agenda_store.h"
#include "store/test_support.h"

namespace agendasync::store {
namespace {

using testing::file_bytes;
using testing::TempDir;
using testing::write_file;

void expect_refused_untouched(const std::filesystem::path& path, const std::string& bytes) {
  write_file(path, bytes);
  auto store = open_sqlite_agenda_store(path, testing::creating());
  ASSERT_FALSE(store) << "opened a broken file";
  EXPECT_EQ(store.error().kind, ErrorKind::kInvalidData) << store.error().message;
  EXPECT_NE(store.error().message.find(path.string()), std::string::npos) << store.error().message;
  EXPECT_EQ(file_bytes(path), bytes);
  EXPECT_FALSE(std::filesystem::exists(path.string() + "-wal"));
  EXPECT_FALSE(std::filesystem::exists(path.string() + "-journal"));
}

TEST(BadDatabase, ATextFileIsRefused) {
  TempDir dir;
  auto path = dir / "agenda.db";
  expect_refused_untouched(path,
                           "[exchange]\nurl = \"https://mail.example.com/EWS/Exchange.asmx\"\n");
  auto store = open_sqlite_agenda_store(path);
  ASSERT_FALSE(store);
  EXPECT_NE(store.error().message.find("not an SQLite database"), std::string::npos);
}

TEST(BadDatabase, RandomBytesAreRefused) {
  TempDir dir;
  std::string noise(8192, '\0');
  std::mt19937 random(42);
  for (auto& byte : noise) byte = static_cast<char>(random());
  expect_refused_untouched(dir / "agenda.db", noise);
}

TEST(BadDatabase, ARealHeaderWithGarbageBehindItIsRefused) {
  TempDir dir;
  std::string bytes(std::string("SQLite format 3") + '\0');
  bytes += std::string(4096 * 2 - bytes.size(), '\x5a');
  expect_refused_untouched(dir / "agenda.db", bytes);
}

TEST(BadDatabase, ADatabaseWithADamagedSchemaPageIsRefused) {
  TempDir dir;
  auto path = dir / "agenda.db";
  {
    auto store = open_sqlite_agenda_store(path, testing::creating());
    ASSERT_TRUE(store);
    ASSERT_TRUE((*store)->add_user(testing::sample_user("ANNA")));
  }
  auto bytes = file_bytes(path);
  ASSERT_GT(bytes.size(), 4096u);
  // Page 1 holds the schema table after the 100-byte header: overwrite its b-tree.
  for (std::size_t i = 100; i < 4096; ++i) bytes[i] = static_cast<char>(0xff);
  expect_refused_untouched(path, bytes);
}

}  // namespace
}  // namespace agendasync::store
