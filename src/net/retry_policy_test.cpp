#include "net/retry_policy.h"

#include <gtest/gtest.h>

#include "net/http.h"

namespace agendasync::net {
namespace {

using std::chrono::milliseconds;

RetryPolicy policy(int attempts = 4) { return {attempts, milliseconds(200), milliseconds(30'000)}; }

AttemptOutcome status(long code, std::optional<milliseconds> retry_after = std::nullopt) {
  AttemptOutcome outcome;
  outcome.status = code;
  outcome.retry_after = retry_after;
  return outcome;
}

AttemptOutcome broken_connection(bool retryable = true) {
  AttemptOutcome outcome;
  outcome.transport_error = true;
  outcome.transport_retryable = retryable;
  return outcome;
}

TEST(BackoffTest, CapDoublesFromTheBaseAndStopsAtTheMaximum) {
  const RetryPolicy p{10, milliseconds(200), milliseconds(1000)};
  EXPECT_EQ(backoff_cap(p, 1), milliseconds(200));
  EXPECT_EQ(backoff_cap(p, 2), milliseconds(400));
  EXPECT_EQ(backoff_cap(p, 3), milliseconds(800));
  EXPECT_EQ(backoff_cap(p, 4), milliseconds(1000));
  EXPECT_EQ(backoff_cap(p, 60), milliseconds(1000));  // no overflow on absurd attempt counts
}

TEST(BackoffTest, FullJitterStaysWithinZeroAndTheCap) {
  const RetryPolicy p{10, milliseconds(200), milliseconds(1000)};
  EXPECT_EQ(backoff_with_full_jitter(p, 2, 0), milliseconds(0));
  EXPECT_EQ(backoff_with_full_jitter(p, 2, 400), milliseconds(400));
  EXPECT_EQ(backoff_with_full_jitter(p, 2, 401), milliseconds(0));
  for (std::uint64_t r = 0; r < 5000; r += 7) {
    const auto wait = backoff_with_full_jitter(p, 3, r * 2654435761u);
    EXPECT_GE(wait, milliseconds(0));
    EXPECT_LE(wait, milliseconds(800));
  }
}

TEST(DecideRetryTest, ServerErrorsAndThrottlesAreRetriedClientErrorsAreNot) {
  for (long code : {500L, 502L, 503L, 504L, 429L}) {
    EXPECT_TRUE(decide_retry(policy(), 1, true, status(code), 1).retry) << code;
  }
  for (long code : {200L, 201L, 304L, 400L, 401L, 403L, 404L, 409L, 412L}) {
    EXPECT_FALSE(decide_retry(policy(), 1, true, status(code), 1).retry) << code;
  }
}

TEST(DecideRetryTest, TransportErrorsAreRetriedOnlyWhenRetryable) {
  EXPECT_TRUE(decide_retry(policy(), 1, true, broken_connection(true), 1).retry);
  EXPECT_FALSE(decide_retry(policy(), 1, true, broken_connection(false), 1).retry);
}

TEST(DecideRetryTest, MaxAttemptsIsAbsolute) {
  EXPECT_TRUE(decide_retry(policy(3), 2, true, status(503), 1).retry);
  EXPECT_FALSE(decide_retry(policy(3), 3, true, status(503), 1).retry);
  EXPECT_FALSE(decide_retry(policy(3), 3, true, status(429, milliseconds(10)), 1).retry);
  EXPECT_FALSE(decide_retry(policy(1), 1, true, broken_connection(), 1).retry);
}

TEST(DecideRetryTest, RetryNotAllowedMeansOneAttempt) {
  EXPECT_FALSE(decide_retry(policy(), 1, false, status(503), 1).retry);
  EXPECT_FALSE(decide_retry(policy(), 1, false, broken_connection(), 1).retry);
}

TEST(DecideRetryTest, RetryAfterIsTheWaitUnlessLongerThanTheBackoffMaximum) {
  auto decision = decide_retry(policy(), 1, true, status(429, milliseconds(1500)), 99);
  EXPECT_TRUE(decision.retry);
  EXPECT_EQ(decision.wait, milliseconds(1500));
  decision = decide_retry(policy(), 1, true, status(503, milliseconds(0)), 99);
  EXPECT_TRUE(decision.retry);
  EXPECT_EQ(decision.wait, milliseconds(0));
  // Two minutes: handed back to the caller with the header rather than waited out here.
  EXPECT_FALSE(decide_retry(policy(), 1, true, status(503, milliseconds(120'000)), 1).retry);
}

TEST(DecideRetryTest, TheRequestCanDeclineA5xx) {
  auto outcome = status(500);
  outcome.response_retryable = false;
  EXPECT_FALSE(decide_retry(policy(), 1, true, outcome, 1).retry);
  // 429 is a throttle, not a server error: the predicate is for 5xx only.
  outcome = status(429);
  outcome.response_retryable = false;
  EXPECT_TRUE(decide_retry(policy(), 1, true, outcome, 1).retry);
}

Response with_retry_after(std::string value) {
  Response response;
  response.status = 503;
  response.headers.emplace_back("retry-after", std::move(value));
  return response;
}

TEST(RetryAfterTest, ReadsDeltaSeconds) {
  EXPECT_EQ(retry_after(with_retry_after("3")), milliseconds(3000));
  EXPECT_EQ(retry_after(with_retry_after(" 0 ")), milliseconds(0));
  EXPECT_EQ(retry_after(with_retry_after("99999999")), milliseconds(86'400'000));
}

TEST(RetryAfterTest, ReadsHttpDates) {
  EXPECT_EQ(retry_after(with_retry_after("Wed, 21 Oct 2015 07:28:00 GMT")), milliseconds(0));
  // RFC 850 and asctime forms, both long past.
  EXPECT_EQ(retry_after(with_retry_after("Wednesday, 21-Oct-15 07:28:00 GMT")), milliseconds(0));
  EXPECT_EQ(retry_after(with_retry_after("Wed Oct 21 07:28:00 2015")), milliseconds(0));
  const auto wait = retry_after(with_retry_after("Fri, 01 Jan 2100 00:00:00 GMT"));
  ASSERT_TRUE(wait.has_value());
  EXPECT_EQ(*wait, milliseconds(86'400'000));  // clamped to a day
}

TEST(RetryAfterTest, AbsentOrGarbageIsNoValue) {
  EXPECT_FALSE(retry_after(Response{}).has_value());
  EXPECT_FALSE(retry_after(with_retry_after("soon")).has_value());
  EXPECT_FALSE(retry_after(with_retry_after("12abc")).has_value());
  EXPECT_FALSE(retry_after(with_retry_after("")).has_value());
}

}  // namespace
}  // namespace agendasync::net
