#include "core/appointment.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace agendasync {
namespace {

// The names appear in the canonical form (and so in every stored hash), logs and the API:
// they must stay put and stay distinct.
TEST(AppointmentNames, StableAndDistinct) {
  EXPECT_STREQ(to_string(Sensitivity::kPrivate), "private");
  EXPECT_STREQ(to_string(ShowAs::kWorkingElsewhere), "working-elsewhere");
  EXPECT_STREQ(to_string(ShowAs::kOutOfOffice), "out-of-office");
  EXPECT_STREQ(to_string(BodyType::kHtml), "html");
  EXPECT_STREQ(to_string(ResponseStatus::kNotResponded), "not-responded");
  EXPECT_STREQ(to_string(AttendeeRole::kResource), "resource");

  std::set<std::string> show_as;
  for (auto v : {ShowAs::kFree, ShowAs::kTentative, ShowAs::kBusy, ShowAs::kOutOfOffice,
                 ShowAs::kWorkingElsewhere, ShowAs::kUnknown}) {
    show_as.insert(to_string(v));
  }
  EXPECT_EQ(show_as.size(), 6u);
  std::set<std::string> sensitivity;
  for (auto v : {Sensitivity::kNormal, Sensitivity::kPersonal, Sensitivity::kPrivate,
                 Sensitivity::kConfidential}) {
    sensitivity.insert(to_string(v));
  }
  EXPECT_EQ(sensitivity.size(), 4u);
  std::set<std::string> responses;
  for (auto v :
       {ResponseStatus::kNone, ResponseStatus::kOrganizer, ResponseStatus::kTentative,
        ResponseStatus::kAccepted, ResponseStatus::kDeclined, ResponseStatus::kNotResponded}) {
    responses.insert(to_string(v));
  }
  EXPECT_EQ(responses.size(), 6u);
}

}  // namespace
}  // namespace agendasync
