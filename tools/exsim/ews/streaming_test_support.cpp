#include "exsim/ews/streaming_test_support.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "exsim/store/ids.h"

namespace exsim::testing {
namespace {

httplib::Headers with_auth(const std::string& user, httplib::Headers headers) {
  headers.emplace("Authorization", "Basic " + base64_encode(user + ":" + kPassword));
  return headers;
}

}  // namespace

std::string mailbox(int i) { return fmt::format("m{}@example.com", i); }

ServerConfig config_with_mailboxes(int count) {
  ServerConfig config;
  for (int i = 0; i < count; ++i) {
    config.mailboxes.push_back({mailbox(i), ""});
    config.accounts.push_back({mailbox(i), kPassword, false, {}});
  }
  config.accounts.push_back({kService, kPassword, true, {}});
  config.admin_token = kAdminToken;
  config.streaming_keepalive_seconds = 1;
  return config;
}

Exsim::Exsim(ServerConfig config) : server_(std::make_unique<Server>(std::move(config))) {
  std::string error;
  if (!server_->start(error)) throw std::runtime_error("exsim did not start: " + error);
  thread_ = std::thread([this] { server_->run(); });
}

Exsim::~Exsim() {
  server_->stop();
  thread_.join();
}

Reply Exsim::ews(const std::string& user, const std::string& body, httplib::Headers headers) {
  httplib::Client client("127.0.0.1", port());
  client.set_read_timeout(30, 0);
  auto res = client.Post("/EWS/Exchange.asmx", with_auth(user, std::move(headers)), body,
                         "text/xml; charset=utf-8");
  if (!res) return {};
  return Reply{res->status, res->body, res->headers};
}

Reply Exsim::admin(const std::string& path, const std::string& body) {
  httplib::Client client("127.0.0.1", port());
  client.set_read_timeout(30, 0);
  httplib::Headers headers{{"X-Exsim-Admin-Token", kAdminToken}};
  auto res = body.empty() ? client.Get("/exsim/admin/" + path, headers)
                          : client.Post("/exsim/admin/" + path, headers, body, "application/json");
  if (!res) return {};
  return Reply{res->status, res->body, res->headers};
}

std::string envelope(const std::string& operation, const std::string& impersonate) {
  std::string header = R"(<t:RequestServerVersion Version="Exchange2013_SP1"/>)";
  if (!impersonate.empty()) {
    header += fmt::format(
        "<t:ExchangeImpersonation><t:ConnectingSID><t:PrimarySmtpAddress>{}</"
        "t:PrimarySmtpAddress></t:ConnectingSID></t:ExchangeImpersonation>",
        impersonate);
  }
  return fmt::format(
      R"(<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" )"
      R"(xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types" )"
      R"(xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages">)"
      "<soap:Header>{}</soap:Header><soap:Body>{}</soap:Body></soap:Envelope>",
      header, operation);
}

std::string subscribe(const std::string& address, const std::string& impersonate) {
  return envelope(
      fmt::format("<m:Subscribe><m:StreamingSubscriptionRequest><t:FolderIds>"
                  "<t:DistinguishedFolderId Id=\"calendar\"><t:Mailbox><t:EmailAddress>{}"
                  "</t:EmailAddress></t:Mailbox></t:DistinguishedFolderId></t:FolderIds>"
                  "<t:EventTypes><t:EventType>CreatedEvent</t:EventType><t:EventType>"
                  "ModifiedEvent</t:EventType><t:EventType>DeletedEvent</t:EventType>"
                  "</t:EventTypes></m:StreamingSubscriptionRequest></m:Subscribe>",
                  address),
      impersonate);
}

std::string get_streaming_events(const std::vector<std::string>& ids, int timeout_minutes,
                                 const std::string& impersonate) {
  std::string list;
  for (const std::string& id : ids) list += "<t:SubscriptionId>" + id + "</t:SubscriptionId>";
  return envelope(fmt::format("<m:GetStreamingEvents><m:SubscriptionIds>{}</m:SubscriptionIds>"
                              "<m:ConnectionTimeout>{}</m:ConnectionTimeout>"
                              "</m:GetStreamingEvents>",
                              list, timeout_minutes),
                  impersonate);
}

std::string get_calendar(const std::string& address, const std::string& impersonate) {
  return envelope(
      fmt::format(
          "<m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape>"
          "<m:FolderIds><t:DistinguishedFolderId Id=\"calendar\"><t:Mailbox><t:EmailAddress>{}"
          "</t:EmailAddress></t:Mailbox></t:DistinguishedFolderId></m:FolderIds></m:GetFolder>",
          address),
      impersonate);
}

std::string element_text(const std::string& xml, const std::string& name) {
  auto open = xml.find(":" + name + ">");
  if (open == std::string::npos) return "";
  open += name.size() + 2;
  auto close = xml.find("</", open);
  return close == std::string::npos ? "" : xml.substr(open, close - open);
}

std::vector<std::string> error_subscription_ids(const std::string& xml) {
  std::vector<std::string> ids;
  auto start = xml.find("ErrorSubscriptionIds>");
  if (start == std::string::npos) return ids;
  auto end = xml.find("ErrorSubscriptionIds>", start + 1);
  std::string list = xml.substr(start, end - start);
  const std::string open = "<t:SubscriptionId>";
  for (size_t pos = 0; (pos = list.find(open, pos)) != std::string::npos;) {
    pos += open.size();
    auto close = list.find("</", pos);
    ids.push_back(list.substr(pos, close - pos));
    pos = close;
  }
  return ids;
}

std::string override_cookie(const httplib::Headers& headers) {
  for (const auto& [name, value] : headers) {
    if (name == "Set-Cookie" && value.starts_with("X-BackEndOverrideCookie=")) {
      return value.substr(24, value.find(';') - 24);
    }
  }
  return "";
}

std::string subscribe_id(Exsim& exsim, const std::string& user, const std::string& address,
                         const std::string& impersonate, httplib::Headers headers, Reply* out) {
  Reply reply = exsim.ews(user, subscribe(address, impersonate), std::move(headers));
  EXPECT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(element_text(reply.body, "ResponseCode"), "NoError") << reply.body;
  if (out) *out = reply;
  return element_text(reply.body, "SubscriptionId");
}

httplib::Headers affinity(const std::string& anchor, const std::string& cookie) {
  httplib::Headers headers{{"X-AnchorMailbox", anchor}, {"X-PreferServerAffinity", "true"}};
  if (!cookie.empty()) headers.emplace("Cookie", "X-BackEndOverrideCookie=" + cookie);
  return headers;
}

void outlook_change(Exsim& exsim, const std::string& address, const std::string& subject) {
  Reply r = exsim.admin(
      "mailboxes/" + address + "/items",
      fmt::format(
          R"({{"subject":"{}","start":"2031-05-05T09:00:00Z","end":"2031-05-05T10:00:00Z"}})",
          subject));
  EXPECT_EQ(r.status, 201) << r.body;
}

Stream::Stream(int port, const std::string& user, const std::string& body,
               httplib::Headers headers) {
  headers = with_auth(user, std::move(headers));
  client_ = std::make_unique<httplib::Client>("127.0.0.1", port);
  thread_ = std::thread([this, body, headers] {
    httplib::Client& client = *client_;
    client.set_read_timeout(120, 0);
    httplib::Request req;
    req.method = "POST";
    req.path = "/EWS/Exchange.asmx";
    req.headers = headers;
    req.body = body;
    req.set_header("Content-Type", "text/xml; charset=utf-8");
    req.response_handler = [this](const httplib::Response& res) {
      std::lock_guard lock(mutex_);
      status_ = res.status;
      return true;
    };
    req.content_receiver = [this](const char* data, size_t size, uint64_t, uint64_t) {
      std::lock_guard lock(mutex_);
      buffer_.append(data, size);
      // Stream parts are <Envelope ...>...</Envelope>; a whole answer ends in </s:Envelope>.
      for (const char* end : {"</Envelope>", "</s:Envelope>"}) {
        for (size_t pos; (pos = buffer_.find(end)) != std::string::npos;) {
          parts_.push_back(buffer_.substr(0, pos + std::string(end).size()));
          buffer_.erase(0, pos + std::string(end).size());
        }
      }
      changed_.notify_all();
      return !closing_;
    };
    auto res = client.send(req);
    std::lock_guard lock(mutex_);
    complete_ = static_cast<bool>(res);
    if (res) status_ = res->status;
    over_ = true;
    changed_.notify_all();
  });
}

Stream::~Stream() {
  close();
  thread_.join();
}

bool Stream::wait_for(const std::function<bool(const std::vector<std::string>&)>& done,
                      std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return done(parts_); });
}

bool Stream::wait_for_text(const std::string& text, std::chrono::milliseconds timeout) {
  return wait_for(
      [&](const std::vector<std::string>& parts) {
        for (const std::string& p : parts) {
          if (p.find(text) != std::string::npos) return true;
        }
        return false;
      },
      timeout);
}

bool Stream::wait_until_over(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return over_; });
}

std::vector<std::string> Stream::parts() {
  std::lock_guard lock(mutex_);
  return parts_;
}

int Stream::status() {
  std::lock_guard lock(mutex_);
  return status_;
}

bool Stream::complete() {
  std::lock_guard lock(mutex_);
  return complete_;
}

void Stream::close() {
  {
    std::lock_guard lock(mutex_);
    closing_ = true;
  }
  // Shuts the socket down, so the reader need not wait for the next keep-alive.
  client_->stop();
}

}  // namespace exsim::testing
