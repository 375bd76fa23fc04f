#pragma once
/// R41: which connection of a hybrid organisation serves a user's mailbox. The user's
/// setting decides when it says ews or graph; `auto` keeps the backend the pair last synced
/// through and asks on-premises Autodiscover only when there is none yet, or when that
/// backend answered that it no longer holds the mailbox (EWS ErrorNonExistentMailbox after a
/// move to Exchange Online, Graph MailboxNotEnabledForRESTAPI for a mailbox on premises).
#include <functional>
#include <optional>
#include <string>

#include "config/config.h"
#include "core/error.h"
#include "core/settings.h"

namespace agendasync::app {

enum class RemoteBackend { kEws, kGraph };
const char* to_string(RemoteBackend value);  // ews|graph: SyncState::remote_backend's names
std::optional<RemoteBackend> parse_remote_backend(std::string_view text);

/// Asks Exchange where a mailbox is: true when it moved to Exchange Online. An error when
/// Autodiscover could not be asked.
using MovedOnlineProbe = std::function<Result<bool>()>;

/// The backend of one pair. `recorded` is the backend its state was last synced through
/// (nullopt: never, or before R41). `probe` is called only for `auto` without a recorded
/// backend (or when `reprobe`: the recorded backend refused the mailbox).
Result<RemoteBackend> route_mailbox(config::ExchangeBackend connection, MailboxBackend setting,
                                    std::optional<RemoteBackend> recorded, bool reprobe,
                                    const MovedOnlineProbe& probe);

/// Whether an error from a backend says it does not hold the mailbox (it moved away), so an
/// `auto` user's pair should be routed again: EWS ErrorNonExistentMailbox, Graph
/// MailboxNotEnabledForRESTAPI.
bool mailbox_elsewhere(const Error& error);

}  // namespace agendasync::app
