#pragma once
/// Test-only: an HttpClient that records every request and answers from a handler (or a
/// queue of canned responses), so connector tests need no network.
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "net/http.h"

namespace agendasync::graph::testing {

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

  void send_async(net::Request request, net::Credentials credentials,
                  std::function<void(Result<net::Response>)> done) override {
    done(send(request, credentials));
  }

 private:
  std::mutex mutex_;
};

}  // namespace agendasync::graph::testing
