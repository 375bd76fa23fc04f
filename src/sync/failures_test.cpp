// The run report groups identical write failures into one line with a count.
#include "sync/failures.h"

#include <gtest/gtest.h>

namespace agendasync::sync {
namespace {

WriteFailure failure(std::string key, std::string message, std::string operation = "create",
                     ErrorKind kind = ErrorKind::kPermanent) {
  return WriteFailure{std::move(operation), std::move(key), "ews:jdoe@example.com",
                      Error::make(kind, std::move(message))};
}

TEST(ReportLinesTest, IdenticalFailuresMakeOneLineWithTheirCount) {
  std::vector<WriteFailure> failures;
  for (int i = 0; i < 250; ++i) {
    failures.push_back(
        failure("key-" + std::to_string(i), "Exchange answered HTTP 400 without an EWS response."));
  }
  const auto lines = report_lines(failures);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0],
            "250 items: create on ews:jdoe@example.com failed (permanent): Exchange answered "
            "HTTP 400 without an EWS response. (first: key-0)");
}

TEST(ReportLinesTest, ALoneFailureKeepsItsKeyAndTheOrderIsFirstSeen) {
  const auto lines = report_lines({failure("a", "stale"), failure("b", "HTTP 400"),
                                   failure("c", "stale"), failure("d", "stale", "update")});
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0],
            "2 items: create on ews:jdoe@example.com failed (permanent): stale (first: a)");
  EXPECT_EQ(lines[1], "create b on ews:jdoe@example.com failed (permanent): HTTP 400");
  EXPECT_EQ(lines[2], "update d on ews:jdoe@example.com failed (permanent): stale");
}

TEST(ReportLinesTest, TheKindIsPartOfTheCause) {
  const auto lines = report_lines(
      {failure("a", "x", "create", ErrorKind::kTransient), failure("b", "x", "create")});
  EXPECT_EQ(lines.size(), 2u);
}

}  // namespace
}  // namespace agendasync::sync
