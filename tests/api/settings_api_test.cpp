// Organisation settings (R12) with write-only, encrypted secrets (R9), and key rotation.
#include <fstream>
#include <sstream>

#include "api_test_support.h"

namespace agendasync::apitest {
namespace {

class SettingsApi : public ApiTest {};

const std::string kPassword = "Tr0ub4dor&3-exchange-pw";
const std::string kClientSecret = "gR4ph~cl13nt~s3cr3t~value";

std::string file_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST_F(SettingsApi, OnlyAdminsReadOrWriteSettings) {
  EXPECT_EQ(get("/api/v1/settings", integration_).status, 403);
  EXPECT_EQ(get("/api/v1/settings", alice_).status, 403);
  EXPECT_EQ(call("PUT", "/api/v1/settings", integration_, json{{"mail_domain", "x.org"}}).status,
            403);
  EXPECT_EQ(call("POST", "/api/v1/settings/secrets/rotate", integration_).status, 403);
  auto read = get("/api/v1/settings", admin_);
  ASSERT_EQ(read.status, 200);
  EXPECT_EQ(read.json_body["mail_domain"], "example.com");
  EXPECT_EQ(read.json_body["secrets"]["exchange_password"]["set"], false);
}

TEST_F(SettingsApi, SecretsAreWriteOnlyAndEncryptedAtRest) {
  never_reveal(kPassword);
  never_reveal(kClientSecret);
  auto put = call(
      "PUT", "/api/v1/settings", admin_,
      json{
          {"mail_domain", "afas.nl"},
          {"default_direction", "to-exchange"},
          {"first_sync_days", 45},
          {"secrets", {{"exchange_password", kPassword}, {"graph_client_secret", kClientSecret}}}});
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(put.json_body["mail_domain"], "afas.nl");
  EXPECT_EQ(put.json_body["default_direction"], "to-exchange");
  EXPECT_EQ(put.json_body["first_sync_days"], 45);
  EXPECT_EQ(put.json_body["secrets"]["exchange_password"], json({{"set", true}}));
  EXPECT_EQ(put.json_body["secrets"]["graph_client_secret"], json({{"set", true}}));
  EXPECT_EQ(put.json_body["secrets"]["graph_private_key"], json({{"set", false}}));
  EXPECT_EQ(put.body.find(kPassword), std::string::npos);

  // The server can still use them (the sync needs them), but the database holds ciphertext.
  auto stored = server_->secrets().get("exchange_password");
  ASSERT_TRUE(stored && *stored);
  EXPECT_EQ((*stored)->reveal(), kPassword);
  server_->stop();
  for (const char* file : {"agenda.db", "agenda.db-wal"}) {
    if (!std::filesystem::exists(dir_ / file)) continue;
    std::string bytes = file_bytes(dir_ / file);
    EXPECT_EQ(bytes.find(kPassword), std::string::npos) << file;
    EXPECT_EQ(bytes.find(kClientSecret), std::string::npos) << file;
  }
}

TEST_F(SettingsApi, NullRemovesASecretAndUnknownNamesAreRefused) {
  ASSERT_EQ(call("PUT", "/api/v1/settings", admin_,
                 json{{"secrets", {{"exchange_password", "temporary-password-1"}}}})
                .status,
            200);
  never_reveal("temporary-password-1");
  auto cleared =
      call("PUT", "/api/v1/settings", admin_, json{{"secrets", {{"exchange_password", nullptr}}}});
  EXPECT_EQ(cleared.json_body["secrets"]["exchange_password"]["set"], false);
  auto unknown =
      call("PUT", "/api/v1/settings", admin_, json{{"secrets", {{"root_password", "x"}}}});
  EXPECT_EQ(unknown.status, 422);
  EXPECT_EQ(call("PUT", "/api/v1/settings", admin_, json{{"default_direction", "sideways"}}).status,
            422);
  EXPECT_EQ(call("PUT", "/api/v1/settings", admin_, json{{"first_sync_days", -1}}).status, 422);
}

TEST_F(SettingsApi, RotationResealsUnderTheCurrentKey) {
  ASSERT_EQ(call("PUT", "/api/v1/settings", admin_,
                 json{{"secrets", {{"graph_private_key", "-----BEGIN PRIVATE KEY-----abc"}}}})
                .status,
            200);
  never_reveal("-----BEGIN PRIVATE KEY-----abc");
  ASSERT_EQ(call("POST", "/api/v1/webhooks", admin_,
                 json{{"url", "http://127.0.0.1:9/hook"}, {"secret", "webhook-secret-0123456"}})
                .status,
            201);
  never_reveal("webhook-secret-0123456");
  auto rotated = call("POST", "/api/v1/settings/secrets/rotate", admin_);
  ASSERT_EQ(rotated.status, 200) << rotated.body;
  EXPECT_EQ(rotated.json_body["resealed"], 2);
  auto value = server_->secrets().get("graph_private_key");
  ASSERT_TRUE(value && *value);
  EXPECT_EQ((*value)->reveal(), "-----BEGIN PRIVATE KEY-----abc");
}

}  // namespace
}  // namespace agendasync::apitest
