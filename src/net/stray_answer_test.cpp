// The rules of a stray answer without sockets: which answers count, and what the errors say.
#include "net/stray_answer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace agendasync::net {
namespace {

using ::testing::HasSubstr;

Request checking() {
  Request request;
  request.recognises_answer = [](const Response& r) { return r.body.starts_with("<answer"); };
  return request;
}

Response answer(long status, std::string connection, std::string body = {}) {
  Response response;
  response.status = status;
  if (!connection.empty()) response.headers.emplace_back("connection", std::move(connection));
  response.body = std::move(body);
  return response;
}

TEST(StrayAnswerRulesTest, ConnectionCloseIsATokenInAList) {
  EXPECT_TRUE(closes_connection(answer(400, "close")));
  EXPECT_TRUE(closes_connection(answer(400, "Close")));
  EXPECT_TRUE(closes_connection(answer(400, "Keep-Alive, close")));
  EXPECT_FALSE(closes_connection(answer(400, "keep-alive")));
  EXPECT_FALSE(closes_connection(answer(400, "")));
  EXPECT_FALSE(closes_connection(answer(400, "closed")));
}

TEST(StrayAnswerRulesTest, AnUnrecognisedClosingErrorLooksStray) {
  EXPECT_TRUE(looks_stray(checking(), answer(400, "close")));
  EXPECT_TRUE(looks_stray(checking(), answer(408, "close", "<html>timeout</html>")));
  EXPECT_TRUE(looks_stray(checking(), answer(503, "close")));
}

TEST(StrayAnswerRulesTest, WhatDoesNotLookStray) {
  EXPECT_FALSE(looks_stray(checking(), answer(200, "close"))) << "a success is an answer";
  EXPECT_FALSE(looks_stray(checking(), answer(400, ""))) << "the connection stays open";
  EXPECT_FALSE(looks_stray(checking(), answer(500, "close", "<answer/>"))) << "recognised";
  EXPECT_FALSE(looks_stray(checking(), answer(401, "close"))) << "authentication rounds";
  EXPECT_FALSE(looks_stray(checking(), answer(407, "close")));
  EXPECT_FALSE(looks_stray(Request{}, answer(400, "close"))) << "the request did not ask";
  Request throwing;
  throwing.recognises_answer = [](const Response&) -> bool { throw 1; };
  EXPECT_FALSE(looks_stray(throwing, answer(400, "close")));
}

TEST(StrayAnswerRulesTest, ErrorsSayWhatHappenedAndWhatToDo) {
  const Error not_repeated =
      stray_answer_error(answer(400, "close"), "mail.example.com:443", StrayEnding::kNotRepeatable);
  EXPECT_TRUE(is_stray_answer(not_repeated));
  EXPECT_EQ(not_repeated.kind, ErrorKind::kTransient);
  EXPECT_THAT(not_repeated.message, HasSubstr("mail.example.com:443 answered HTTP 400"));
  EXPECT_THAT(not_repeated.message, HasSubstr("not sent again"));
  const Error twice = stray_answer_error(answer(400, "close"), "mail.example.com:443",
                                         StrayEnding::kAgainOnNewConnection);
  EXPECT_TRUE(is_stray_answer(twice));
  EXPECT_THAT(twice.message, HasSubstr("again on a new connection"));
  EXPECT_THAT(twice.message, HasSubstr("httperr"));
  EXPECT_FALSE(is_stray_answer(Error::make(ErrorKind::kTransient, "x", "400")));
}

}  // namespace
}  // namespace agendasync::net
