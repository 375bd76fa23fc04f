#include "connectors/ews/streaming.h"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
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

Result<bool> MailboxWatcher::handle_envelope(const std::string& envelope) {
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
  return changed;
}

namespace {

/// What the client's event loop hands the watcher thread while a stream is open.
struct OpenStream {
  std::mutex mutex;
  std::condition_variable news;
  EnvelopeSplitter splitter;
  std::deque<std::string> envelopes;
  std::optional<Error> broken;  ///< the stream was not SOAP envelopes
  std::optional<Result<net::Response>> done;
  std::atomic<bool> give_up{false};  ///< the watcher needs no more pieces
};

}  // namespace

Result<int> MailboxWatcher::listen_once(std::stop_token stop) {
  if (subscription_id_.empty()) {
    if (auto subscribed = subscribe(); !subscribed) return std::unexpected(subscribed.error());
  }
  const std::vector<std::string> ids{subscription_id_};
  const auto timeout = std::chrono::minutes{options_.connection_timeout_minutes + 1};
  // Envelopes are split off on the client's event loop as pieces arrive, and handled (parsed,
  // on_change_) here, so a wake-up fires when Exchange sends the notification rather than
  // when it closes the connection.
  auto stream = std::make_shared<OpenStream>();
  side_.stream_raw(
      build_get_streaming_events(side_.context(), ids, options_.connection_timeout_minutes),
      timeout,
      [stream, stop](std::string_view piece) {
        std::lock_guard lock(stream->mutex);
        auto complete = stream->splitter.feed(piece);
        if (!complete) {
          stream->broken = complete.error();
        } else {
          for (std::string& envelope : *complete) stream->envelopes.push_back(std::move(envelope));
        }
        stream->news.notify_one();
        return complete.has_value() && !stop.stop_requested() && !stream->give_up;
      },
      [stream](Result<net::Response> response) {
        std::lock_guard lock(stream->mutex);
        stream->done = std::move(response);
        stream->news.notify_one();
      });

  int wakeups = 0;
  std::optional<Error> failure;
  bool finished = false;
  while (!finished) {
    std::deque<std::string> ready;
    {
      std::unique_lock lock(stream->mutex);
      // Bounded: the transfer ends by the request timeout at the latest, and then `done` is set.
      stream->news.wait(lock, [&] { return !stream->envelopes.empty() || stream->done; });
      ready.swap(stream->envelopes);
      if (stream->broken && !failure) failure = stream->broken;
      finished = stream->done.has_value();
      if (finished && stream->done->has_value()) {
        // A transport that does not stream (or a non-2xx SOAP fault) leaves the body here.
        auto rest = stream->splitter.feed((*stream->done)->body);
        if (!rest) {
          if (!failure) failure = rest.error();
        } else {
          for (std::string& envelope : *rest) ready.push_back(std::move(envelope));
        }
      }
    }
    for (const std::string& envelope : ready) {
      if (failure) break;
      auto changed = handle_envelope(envelope);
      if (!changed) {
        failure = changed.error();
        stream->give_up = true;
        break;
      }
      if (*changed) {
        ++wakeups;
        on_change_();
      }
    }
  }
  if (failure) return std::unexpected(*failure);
  if (!stream->done->has_value()) return std::unexpected(stream->done->error());
  return wakeups;
}

Result<void> MailboxWatcher::run(std::stop_token stop) {
  int failures = 0;
  Error last;
  while (!stop.stop_requested()) {
    auto result = listen_once(stop);
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
