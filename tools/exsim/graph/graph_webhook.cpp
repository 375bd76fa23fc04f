#include "exsim/graph/graph_webhook.h"

#include <cstdlib>
#include <memory>

#include <httplib.h>

namespace exsim {
namespace {

std::string lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

}  // namespace

WebhookAnswer post_webhook(const std::string& url, const std::string& body,
                           const std::string& content_type, std::chrono::milliseconds timeout) {
  WebhookAnswer answer;
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return answer;
  const std::string scheme = lower(url.substr(0, scheme_end));
  const size_t path_at = url.find('/', scheme_end + 3);
  const std::string authority = url.substr(
      scheme_end + 3, path_at == std::string::npos ? std::string::npos : path_at - scheme_end - 3);
  const std::string path = path_at == std::string::npos ? "/" : url.substr(path_at);
  std::string host = authority;
  int port = scheme == "https" ? 443 : 80;
  if (size_t colon = authority.rfind(':');
      colon != std::string::npos && authority.find(']') == std::string::npos) {
    host = authority.substr(0, colon);
    port = std::atoi(authority.c_str() + colon + 1);
  }
  // exsim only ever calls back into the test machine.
  if (host != "127.0.0.1" && host != "localhost" && host != "[::1]") return answer;
  if (host == "localhost") host = "127.0.0.1";
  std::unique_ptr<httplib::ClientImpl> client;
  if (scheme == "https") {
    auto tls = std::make_unique<httplib::SSLClient>(host, port);
    tls->enable_server_certificate_verification(false);
    client = std::move(tls);
  } else if (scheme == "http") {
    client = std::make_unique<httplib::ClientImpl>(host, port);
  } else {
    return answer;
  }
  // cpp-httplib's timeouts bound each socket wait; the elapsed check below bounds the whole.
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(timeout);
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(timeout - seconds);
  client->set_connection_timeout(seconds.count(), micros.count());
  client->set_read_timeout(seconds.count(), micros.count());
  client->set_write_timeout(seconds.count(), micros.count());
  const auto started = std::chrono::steady_clock::now();
  auto result = client->Post(path, body, content_type);
  answer.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  if (!result) return answer;
  answer.status = result->status;
  answer.body = result->body;
  answer.ok = answer.status >= 200 && answer.status <= 299 && answer.elapsed <= timeout;
  return answer;
}

}  // namespace exsim
