#pragma once
// The fixture of the CLI suites: runs the real `agendasync` binary (no shell) in a temporary
// folder, capturing stdout, stderr and the exit code.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "store/test_support.h"

namespace agendasync::cli {

struct CliRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

inline std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/agendasync-cli-test-XXXXXX";
    dir_ = ::mkdtemp(pattern);
    config_ = dir_ / "agendasync.toml";
    database_ = dir_ / "agenda.db";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  /// Runs agendasync with `args` (no shell), capturing stdout and stderr.
  CliRun run(std::vector<std::string> args, bool with_config = true) {
    if (with_config) {
      args.push_back("--config");
      args.push_back(config_.string());
    }
    auto out_path = dir_ / "stdout.txt";
    auto err_path = dir_ / "stderr.txt";
    pid_t pid = fork();
    if (pid == 0) {
      int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      ::dup2(out, 1);
      ::dup2(err, 2);
      std::vector<char*> argv;
      std::string binary = AGENDASYNC_CLI_BINARY;
      argv.push_back(binary.data());
      for (auto& arg : args) argv.push_back(arg.data());
      argv.push_back(nullptr);
      ::execv(binary.c_str(), argv.data());
      _exit(127);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    CliRun result;
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    result.out = slurp(out_path);
    result.err = slurp(err_path);
    return result;
  }

  void init(std::vector<std::string> extra = {"--mail-domain", "afas.nl"}) {
    std::vector<std::string> args = {"init"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto result = run(args);
    ASSERT_EQ(result.exit_code, 0) << result.err;
  }

  /// The database as SQLite reads it (main file with the WAL applied), through SQLite only:
  /// "changes nothing" is checked on these.
  std::string database_bytes() const { return store::testing::database_image(database_); }

  std::filesystem::path dir_, config_, database_;
};

#define EXPECT_CONTAINS(text, part) \
  EXPECT_NE((text).find(part), std::string::npos) << "missing \"" << (part) << "\" in:\n" << (text)

}  // namespace agendasync::cli
