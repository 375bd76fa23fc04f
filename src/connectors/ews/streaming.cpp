#include "connectors/ews/streaming.h"

#include <thread>

#include <fmt/format.h>

#include "connectors/ews/requests.h"
#include "connectors/ews/responses.h"

namespace agendasync::ews {

namespace {

/// The root element name of the envelope starting at `text` ("soap:Envelope"), skipping an
/// XML declaration and whitespace; empty when not (yet) known.
std::string root_name(std::string_view text, std::size_t& root_start) {
  std::size_t pos = 0;
  while (true) {
    while (pos < text.size() &&
           (text[pos] == ' ' || text[pos] == '\r' || text[pos] == '\n' || text[pos] == '\t'))
      ++pos;
    if (pos >= text.size()) return {};
    if (text[pos] != '<') return "!";  // not XML
    if (text.compare(pos, 2, "<?") == 0 || text.compare(pos, 4, "<!--") == 0) {
      const auto end = text.find('>', pos);
      if (end == std::string_view::npos) return {};
      pos = end + 1;
      continue;
    }
    std::size_t end = pos + 1;
    while (end < text.size() && text[end] != ' ' && text[end] != '>' && text[end] != '/' &&
           text[end] != '\r' && text[end] != '\n' && text[end] != '\t')
      ++end;
    if (end >= text.size()) return {};
    root_start = pos;
    return std::string(text.substr(pos + 1, end - pos - 1));
  }
}

bool is_item_event(const std::string& type) {
  return type == "CreatedEvent" || type == "ModifiedEvent" || type == "DeletedEvent" ||
         type == "MovedEvent" || type == "CopiedEvent" || type == "NewMailEvent";
}

}  // namespace

Result<std::vector<std::string>> EnvelopeSplitter::feed(std::string_view bytes) {
  buffer_.append(bytes);
  std::vector<std::string> out;
  while (true) {
    std::size_t root_start = 0;
    const std::string name = root_name(buffer_, root_start);
    if (name == "!") {
      buffer_.clear();
      return fail(ErrorKind::kInvalidData,
                  "The notification stream from Exchange is not a sequence of SOAP envelopes.");
    }
    if (name.empty()) break;
    const std::string closing = "</" + name + ">";
    const auto end = buffer_.find(closing, root_start);
    if (end == std::string::npos) break;
    const std::size_t stop = end + closing.size();
    out.push_back(buffer_.substr(0, stop));
    buffer_.erase(0, stop);
  }
  if (buffer_.size() > max_envelope_bytes_) {
    buffer_.clear();
    return fail(ErrorKind::kInvalidData,
                fmt::format("A notification from Exchange exceeded {} bytes; the stream is "
                            "dropped and reopened.",
                            max_envelope_bytes_));
  }
  return out;
}

MailboxWatcher::MailboxWatcher(EwsCalendarSide& side, std::function<void()> on_change,
                               WatchOptions options)
    : side_(side), on_change_(std::move(on_change)), options_(options) {}

Result<void> MailboxWatcher::subscribe() {
  auto response = side_.call(build_subscribe_streaming(side_.context()));
  if (!response) return std::unexpected(response.error());
  if (response->messages.empty())
    return fail(ErrorKind::kPermanent, "Exchange answered Subscribe without a result.");
  const ResponseMessage& message = response->messages.front();
  if (!message.ok()) return std::unexpected(side_.message_error(message));
  if (message.subscription_id.empty())
    return fail(ErrorKind::kPermanent, "Exchange answered Subscribe without a subscription id.");
  subscription_id_ = message.subscription_id;
  return {};
}

Result<int> MailboxWatcher::listen_once() {
  if (subscription_id_.empty()) {
    if (auto subscribed = subscribe(); !subscribed) return std::unexpected(subscribed.error());
  }
  const std::vector<std::string> ids{subscription_id_};
  const auto timeout = std::chrono::minutes{options_.connection_timeout_minutes + 1};
  // The HTTP seam hands over the body when the server ends the stream; the splitter would
  // equally take it chunk by chunk.
  auto response = side_.send_raw(
      build_get_streaming_events(side_.context(), ids, options_.connection_timeout_minutes),
      timeout);
  if (!response) return std::unexpected(response.error());
  EnvelopeSplitter splitter;
  auto envelopes = splitter.feed(response->body);
  if (!envelopes) return std::unexpected(envelopes.error());
  int wakeups = 0;
  for (const std::string& envelope : *envelopes) {
    auto parsed = parse_response(envelope);
    if (!parsed) return std::unexpected(parsed.error());
    if (parsed->fault) return std::unexpected(side_.message_error(*parsed->fault));
    bool changed = false;
    for (const ResponseMessage& message : parsed->messages) {
      if (!message.ok()) {
        const Error error = side_.message_error(message);
        // The server forgot the subscription (expiry, restart): subscribe again next time.
        if (error.kind == ErrorKind::kNotFound) subscription_id_.clear();
        return std::unexpected(error);
      }
      for (const NotificationEvent& event : message.notifications) {
        changed = changed || is_item_event(event.type);
      }
    }
    if (changed) {
      ++wakeups;
      on_change_();
    }
  }
  return wakeups;
}

Result<void> MailboxWatcher::run(std::stop_token stop) {
  int failures = 0;
  Error last;
  while (!stop.stop_requested()) {
    auto result = listen_once();
    if (result) {
      failures = 0;
      continue;
    }
    last = result.error();
    if (++failures >= options_.max_consecutive_failures) return std::unexpected(last);
    const auto wait = last.retry_after.value_or(options_.retry_delay);
    const auto until = std::chrono::steady_clock::now() + wait;
    while (!stop.stop_requested() && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds{50});
    }
  }
  return {};
}

}  // namespace agendasync::ews
