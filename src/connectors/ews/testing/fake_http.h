#pragma once
/// Test-only: an HttpClient that records every request and answers from a handler (or a
/// queue of canned responses), so connector tests need no network.
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "net/http.h"

namespace agendasync::ews::testing {

class FakeHttp final : public net::HttpClient {
 public:
  using Handler = std::function<Result<net::Response>(const net::Request&)>;

  /// Answers with `handler` when set, else pops the queue (HTTP 500 "queue empty" when dry).
  Handler handler;
  std::deque<Result<net::Response>> queue;
  std::vector<net::Request> requests;

  void push(std::string body, long status = 200) {
    net::Response response;
    response.status = status;
    response.body = std::move(body);
    queue.push_back(std::move(response));
  }

  Result<net::Response> send(const net::Request& request, const net::Credentials&) override {
    std::lock_guard lock(mutex_);
    requests.push_back(request);
    if (handler) return handler(request);
    if (queue.empty()) {
      net::Response response;
      response.status = 500;
      response.body = "queue empty";
      return response;
    }
    auto next = std::move(queue.front());
    queue.pop_front();
    return next;
  }

  /// Every set_host_concurrency call: (url, limit).
  std::vector<std::pair<std::string, int>> host_caps;
  void set_host_concurrency(std::string_view url, int limit) override {
    std::lock_guard lock(mutex_);
    host_caps.emplace_back(std::string(url), limit);
  }

  void send_async(net::Request request, net::Credentials credentials,
                  std::function<void(Result<net::Response>)> done) override {
    done(send(request, credentials));
  }

 private:
  std::mutex mutex_;
};

/// Wraps a SOAP body fragment (the operation response element, prefixes m: and t:) in an
/// envelope as Exchange 2016 sends it.
inline std::string soap_envelope(const std::string& body) {
  return R"(<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header><h:ServerVersionInfo MajorVersion="15" MinorVersion="1" MajorBuildNumber="2507" MinorBuildNumber="6" xmlns:h="http://schemas.microsoft.com/exchange/services/2006/types"/></s:Header><s:Body xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types">)" +
         body + "</s:Body></s:Envelope>";
}

}  // namespace agendasync::ews::testing
