#pragma once
/// Test-only: an HttpClient that records every request and answers from a handler (or a
/// queue of canned responses), so connector tests need no network. Shared by the EWS and
/// Graph connectors' tests; header-only, so linking agendasync_net is enough.
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "net/http.h"

namespace agendasync::net::testing {

class FakeHttp final : public HttpClient {
 public:
  using Handler = std::function<Result<Response>(const Request&)>;

  /// Answers with `handler` when set, else pops the queue (HTTP 500 "queue empty" when dry).
  Handler handler;
  std::deque<Result<Response>> queue;
  std::vector<Request> requests;
  /// Every set_host_concurrency call: (url, limit).
  std::vector<std::pair<std::string, int>> host_caps;
  /// Every set_budget_concurrency call: (key, limit).
  std::vector<std::pair<std::string, int>> budget_caps;

  void push(std::string body, long status = 200) {
    Response response;
    response.status = status;
    response.body = std::move(body);
    queue.push_back(std::move(response));
  }

  Result<Response> send(const Request& request, const Credentials&) override {
    std::lock_guard lock(mutex_);
    requests.push_back(request);
    if (handler) return handler(request);
    if (queue.empty()) {
      Response response;
      response.status = 500;
      response.body = "queue empty";
      return response;
    }
    auto next = std::move(queue.front());
    queue.pop_front();
    return next;
  }

  void set_host_concurrency(std::string_view url, int limit) override {
    std::lock_guard lock(mutex_);
    host_caps.emplace_back(std::string(url), limit);
  }

  void set_budget_concurrency(std::string_view key, int limit) override {
    std::lock_guard lock(mutex_);
    budget_caps.emplace_back(std::string(key), limit);
  }

  void send_async(Request request, Credentials credentials,
                  std::function<void(Result<Response>)> done) override {
    done(send(request, credentials));
  }

 private:
  std::mutex mutex_;
};

}  // namespace agendasync::net::testing
