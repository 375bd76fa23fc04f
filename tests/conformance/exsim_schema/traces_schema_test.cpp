// Every response exsim sent while the conformance suites ran (their --trace-dir folders)
// validates against Microsoft's EWS schema.
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "ews_schema_validator.h"

namespace exsim_test {
namespace {

namespace fs = std::filesystem;

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(ExsimSchema, EveryRecordedResponseValidates) {
  fs::path xsd = fs::path(AGENDASYNC_CONFORMANCE_DIR) / "ews-schema" / "ews-validate.xsd";
  ASSERT_TRUE(fs::exists(xsd)) << "missing " << xsd << ": set AGENDASYNC_CONFORMANCE_DIR";
  EwsSchemaValidator validator(xsd.string());
  ASSERT_TRUE(validator.ok());
  fs::path root = EXSIM_TRACE_ROOT;
  ASSERT_TRUE(fs::exists(root)) << "no traces in " << root << ": run the exsim_exchangelib_* tests";
  int files = 0, parts = 0;
  std::map<std::string, int> operations;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    std::string name = entry.path().filename().string();
    if (!entry.is_regular_file() || name.find("-response") == std::string::npos) continue;
    ++files;
    operations[name.substr(7, name.find("-response") - 7)]++;
    int validated = 0;
    auto problems = validator.validate(read(entry.path()), validated);
    parts += validated;
    EXPECT_TRUE(problems.empty()) << entry.path() << ":\n" << problems.front();
  }
  // The suites exercise at least these; fewer would mean the traces are missing.
  for (const char* op : {"CreateItem", "GetItem", "UpdateItem", "DeleteItem", "FindItem",
                         "GetFolder", "SyncFolderItems", "ResolveNames", "ConvertId",
                         "GetServerTimeZones", "Subscribe", "GetStreamingEvents"}) {
    EXPECT_GT(operations[op], 0) << "no recorded " << op << " response";
  }
  EXPECT_GT(files, 120);
  EXPECT_GT(parts, files);
}

}  // namespace
}  // namespace exsim_test
