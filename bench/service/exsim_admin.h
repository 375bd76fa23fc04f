#pragma once
/// Shared by the daemon benchmarks: exsim's admin endpoint (acting "in Outlook" and reading
/// mailboxes) and latency percentiles as the results files print them.
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "net/http.h"
#include "tools/exsim/launcher/exsim_process.h"

namespace agendasync::benchsetup {

class ExsimAdmin {
 public:
  explicit ExsimAdmin(const exsimtest::ExsimProcess& exsim) : exsim_(exsim) {
    net::ClientOptions options;
    options.tls.ca_bundle_path = exsim.ca_path();
    http_ = net::make_curl_client(options);
  }
  /// The answer as JSON; discarded when the call failed or was refused.
  nlohmann::json call(const std::string& method, const std::string& path,
                      const nlohmann::json& body = nullptr) {
    net::Request request;
    request.method = method;
    request.url = exsim_.base_url() + "/exsim/admin/" + path;
    request.headers = {{"X-Exsim-Admin-Token", exsim_.admin_token()},
                       {"Content-Type", "application/json"}};
    if (!body.is_null()) request.body = body.dump();
    auto response = http_->send(request, net::Credentials{});
    if (!response || response->status >= 300) return nlohmann::json::value_t::discarded;
    return nlohmann::json::parse(response->body, nullptr, false);
  }

 private:
  const exsimtest::ExsimProcess& exsim_;
  std::unique_ptr<net::HttpClient> http_;
};

/// The p-th value (0..1, nearest rank below) of `values`; 0 for none.
inline double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  return values[static_cast<std::size_t>(p * static_cast<double>(values.size() - 1))];
}

/// {"samples", "p50_ms", "p90_ms", "p99_ms", "max_ms"} of latencies in milliseconds.
inline nlohmann::json latency_stats(const std::vector<double>& ms) {
  return {{"samples", ms.size()},
          {"p50_ms", percentile(ms, 0.50)},
          {"p90_ms", percentile(ms, 0.90)},
          {"p99_ms", percentile(ms, 0.99)},
          {"max_ms", percentile(ms, 1.0)}};
}

}  // namespace agendasync::benchsetup
