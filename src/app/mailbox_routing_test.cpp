// R41: routing a user's mailbox to one connection of a hybrid organisation.
#include "app/mailbox_routing.h"

#include <gtest/gtest.h>

namespace agendasync::app {
namespace {

using config::ExchangeBackend;

/// A probe that answers `moved` and counts its calls.
struct Probe {
  Result<bool> answer = false;
  int calls = 0;
  MovedOnlineProbe fn() {
    return [this]() -> Result<bool> {
      ++calls;
      return answer;
    };
  }
};

TEST(MailboxRouting, ASingleBackendConnectionDecidesAloneWhateverTheUserSays) {
  Probe probe;
  EXPECT_EQ(
      route_mailbox(ExchangeBackend::kEws, MailboxBackend::kGraph, std::nullopt, false, probe.fn()),
      RemoteBackend::kEws);
  EXPECT_EQ(route_mailbox(ExchangeBackend::kGraph, MailboxBackend::kEws, RemoteBackend::kEws, true,
                          probe.fn()),
            RemoteBackend::kGraph);
  EXPECT_FALSE(route_mailbox(ExchangeBackend::kNone, MailboxBackend::kAuto, std::nullopt, false,
                             probe.fn()));
  EXPECT_EQ(probe.calls, 0);
}

TEST(MailboxRouting, TheUsersSettingWinsInAHybridOrganisation) {
  Probe probe;
  probe.answer = true;
  EXPECT_EQ(route_mailbox(ExchangeBackend::kHybrid, MailboxBackend::kEws, RemoteBackend::kGraph,
                          true, probe.fn()),
            RemoteBackend::kEws);
  EXPECT_EQ(route_mailbox(ExchangeBackend::kHybrid, MailboxBackend::kGraph, std::nullopt, false,
                          probe.fn()),
            RemoteBackend::kGraph);
  EXPECT_EQ(probe.calls, 0);
}

TEST(MailboxRouting, AutoAsksAutodiscoverOnlyWithoutARecordedBackendOrWhenItRefused) {
  Probe probe;
  probe.answer = true;  // Autodiscover redirects: moved to Exchange Online
  EXPECT_EQ(route_mailbox(ExchangeBackend::kHybrid, MailboxBackend::kAuto, std::nullopt, false,
                          probe.fn()),
            RemoteBackend::kGraph);
  EXPECT_EQ(probe.calls, 1);
  // Steady state: the recorded backend, no Autodiscover request.
  EXPECT_EQ(route_mailbox(ExchangeBackend::kHybrid, MailboxBackend::kAuto, RemoteBackend::kEws,
                          false, probe.fn()),
            RemoteBackend::kEws);
  EXPECT_EQ(probe.calls, 1);
  // EWS said ErrorNonExistentMailbox: ask again, and follow the answer.
  EXPECT_EQ(route_mailbox(ExchangeBackend::kHybrid, MailboxBackend::kAuto, RemoteBackend::kEws,
                          true, probe.fn()),
            RemoteBackend::kGraph);
  probe.answer = false;  // an EWS URL: on premises
  EXPECT_EQ(route_mailbox(ExchangeBackend::kHybrid, MailboxBackend::kAuto, RemoteBackend::kGraph,
                          true, probe.fn()),
            RemoteBackend::kEws);
  EXPECT_EQ(probe.calls, 3);
}

TEST(MailboxRouting, AnUnansweredAutodiscoverIsAnErrorNotAGuess) {
  Probe probe;
  probe.answer = std::unexpected(Error::make(ErrorKind::kTransient, "no Autodiscover"));
  auto routed = route_mailbox(ExchangeBackend::kHybrid, MailboxBackend::kAuto, std::nullopt, false,
                              probe.fn());
  ASSERT_FALSE(routed);
  EXPECT_EQ(routed.error().message, "no Autodiscover");
}

TEST(MailboxRouting, OnlyTheMovedAwayAnswersReroute) {
  EXPECT_TRUE(mailbox_elsewhere(Error::make(ErrorKind::kNotFound, "", "ErrorNonExistentMailbox")));
  EXPECT_TRUE(
      mailbox_elsewhere(Error::make(ErrorKind::kUnsupported, "", "MailboxNotEnabledForRESTAPI")));
  EXPECT_FALSE(mailbox_elsewhere(Error::make(ErrorKind::kAuth, "", "401")));
  EXPECT_FALSE(mailbox_elsewhere(Error::make(ErrorKind::kNotFound, "", "ErrorItemNotFound")));
}

}  // namespace
}  // namespace agendasync::app
