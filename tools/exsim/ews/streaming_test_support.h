#pragma once
// Test support for exsim's streaming-at-scale rules: an in-process exsim on a free port, raw
// EWS SOAP requests with the affinity headers, and a GetStreamingEvents stream read part by
// part on a thread of its own. Tests only.
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>

#include "exsim/server/server.h"

namespace exsim::testing {

inline constexpr const char* kPassword = "pw";
inline constexpr const char* kService = "svc@example.com";  // holds ApplicationImpersonation
inline constexpr const char* kAdminToken = "admin";

/// `count` mailboxes m0@example.com, m1@..., each owned by an account of that name, plus the
/// impersonating service account; keep-alives every second so streams notice closes quickly.
ServerConfig config_with_mailboxes(int count);
/// The address of mailbox `i` in config_with_mailboxes.
std::string mailbox(int i);

/// An answer to one HTTP request.
struct Reply {
  int status = 0;  // 0: no answer
  std::string body;
  httplib::Headers headers;
};

/// A running exsim, stopped when destroyed.
class Exsim {
 public:
  explicit Exsim(ServerConfig config);
  ~Exsim();
  int port() const { return server_->port(); }
  /// POSTs a SOAP envelope to /EWS/Exchange.asmx as `user` (Basic) with `headers` added.
  Reply ews(const std::string& user, const std::string& body, httplib::Headers headers = {});
  /// Calls the admin endpoint (GET when `body` is empty, POST otherwise).
  Reply admin(const std::string& path, const std::string& body = "");

 private:
  std::unique_ptr<Server> server_;
  std::thread thread_;
};

/// A SOAP request envelope around `operation` (Exchange2013_SP1), impersonating `impersonate`
/// when it is not empty.
std::string envelope(const std::string& operation, const std::string& impersonate = "");
/// Subscribe (streaming) to the calendar of `address`.
std::string subscribe(const std::string& address, const std::string& impersonate = "");
/// GetStreamingEvents for `ids`.
std::string get_streaming_events(const std::vector<std::string>& ids, int timeout_minutes = 1,
                                 const std::string& impersonate = "");
/// GetFolder of `address`'s calendar.
std::string get_calendar(const std::string& address, const std::string& impersonate = "");

/// Text of the first <...:name> element in `xml` ("" when absent).
std::string element_text(const std::string& xml, const std::string& name);
/// Every t:SubscriptionId inside ErrorSubscriptionIds.
std::vector<std::string> error_subscription_ids(const std::string& xml);
/// The X-BackEndOverrideCookie value of a Set-Cookie header, "" when none.
std::string override_cookie(const httplib::Headers& headers);
/// Subscribes and returns the id (fails the test when Subscribe did not succeed).
std::string subscribe_id(Exsim& exsim, const std::string& user, const std::string& address,
                         const std::string& impersonate, httplib::Headers headers = {},
                         Reply* reply = nullptr);
/// The affinity headers: X-AnchorMailbox + X-PreferServerAffinity, and the cookie if given.
httplib::Headers affinity(const std::string& anchor, const std::string& cookie = "");
/// Creates an item in `address` through the admin endpoint (a change "made in Outlook").
void outlook_change(Exsim& exsim, const std::string& address, const std::string& subject);

/// A GetStreamingEvents request held open on its own thread; each envelope is one part.
class Stream {
 public:
  Stream(int port, const std::string& user, const std::string& body, httplib::Headers headers = {});
  ~Stream();
  /// Waits (bounded) until `done(parts)` holds; false on timeout.
  bool wait_for(const std::function<bool(const std::vector<std::string>&)>& done,
                std::chrono::milliseconds timeout = std::chrono::seconds(10));
  /// Waits until some part contains `text`.
  bool wait_for_text(const std::string& text,
                     std::chrono::milliseconds timeout = std::chrono::seconds(10));
  /// Waits until the HTTP exchange is over; true when it ended, false on timeout.
  bool wait_until_over(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  std::vector<std::string> parts();
  int status();
  /// The response was complete (last chunk received), not cut off.
  bool complete();
  /// Asks the reader to drop the connection at the next piece (keep-alives come each second).
  void close();

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::string buffer_;
  std::vector<std::string> parts_;
  int status_ = 0;
  bool over_ = false;
  bool complete_ = false;
  bool closing_ = false;
  std::unique_ptr<httplib::Client> client_;
  std::thread thread_;
};

}  // namespace exsim::testing
