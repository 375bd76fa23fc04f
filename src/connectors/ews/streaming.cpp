#include "connectors/ews/streaming.h"

#include <optional>

#include <fmt/format.h>

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

Result<GroupNews> read_group_envelope(
    const std::string& envelope, const std::function<Error(const ResponseMessage&)>& error_of) {
  auto parsed = parse_response(envelope);
  if (!parsed) return std::unexpected(parsed.error());
  GroupNews news;
  if (parsed->fault) {
    news.failure = error_of(*parsed->fault);
    return news;
  }
  for (const ResponseMessage& message : parsed->messages) {
    for (const NotificationEvent& event : message.notifications) {
      if (is_item_event(event.type)) news.changed.insert(event.subscription_id);
    }
    if (message.connection_status == "Closed") news.closed = true;
    if (message.ok()) continue;
    // A newer GetStreamingEvents connection holds these subscriptions now (the watchers
    // opened it for a new set of ids): they stream there; nothing is lost.
    if (message.response_code == "ErrorNewEventStreamConnectionOpened") continue;
    const Error error = error_of(message);
    // ErrorSubscriptionIds names the subscriptions an error is about; the others go on
    // streaming. Without it, the subscription family of errors (not found, expired, invalid,
    // missed events) is about every subscription of the stream.
    if (!message.error_subscription_ids.empty()) {
      news.lost.insert(message.error_subscription_ids.begin(),
                       message.error_subscription_ids.end());
    } else if (error.kind == ErrorKind::kNotFound) {
      news.all_lost = true;
    } else {
      news.failure = error;
    }
  }
  return news;
}

}  // namespace agendasync::ews
