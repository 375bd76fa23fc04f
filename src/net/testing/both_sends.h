#pragma once
/// Runs a curl client test once per place a blocking send() can run (BlockingSends): on the
/// caller's thread, as make_curl_client does, and handed to the event loop. Every rule of the
/// transport (slots, pacing, holds, retries, stray answers, auth, proxy, TLS) must hold on both.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "net/curl_client.h"

namespace agendasync::net::testing {

class BothSends : public ::testing::TestWithParam<BlockingSends> {
 protected:
  std::unique_ptr<HttpClient> make_client(ClientOptions options = {}) const {
    return make_curl_client(std::move(options), GetParam());
  }
};

inline std::string blocking_sends_name(const ::testing::TestParamInfo<BlockingSends>& info) {
  return info.param == BlockingSends::kOnCallersThread ? "OnCallersThread" : "OnTheLoop";
}

}  // namespace agendasync::net::testing

/// Instantiates the TEST_Ps of `Suite` (a class deriving from testing::BothSends) for both.
#define AGENDASYNC_FOR_BOTH_SENDS(Suite)                                                         \
  INSTANTIATE_TEST_SUITE_P(Sends, Suite,                                                         \
                           ::testing::Values(::agendasync::net::BlockingSends::kOnCallersThread, \
                                             ::agendasync::net::BlockingSends::kOnTheLoop),      \
                           ::agendasync::net::testing::blocking_sends_name)
