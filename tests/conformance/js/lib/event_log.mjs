/// Collects what a StreamingSubscriptionConnection reports (events, per-subscription and
/// general errors, disconnects) and lets a test wait, bounded, for one that matches.
import { ews } from './ews.mjs';

const { EventType } = ews;

export const EVENT_WAIT_MS = 20_000;

/// Collects events from a connection and lets a test wait (bounded) for one that matches.
/// Errors are { subscription, exception }: `subscription` is the StreamingSubscription an error
/// names (ErrorSubscriptionIds) or null for a general failure of the connection.
export class EventLog {
  constructor(connection) {
    this.events = [];
    this.errors = [];
    this.waiters = [];
    connection.OnNotificationEvent.push((_sender, args) => {
      // Each event remembers which subscription reported it (the library gives it per batch).
      for (const event of args.Events) this.events.push(Object.assign(event, { subscriptionId: args.Subscription?.Id }));
      this.wake();
    });
    connection.OnSubscriptionError.push((_sender, args) => {
      this.errors.push({ subscription: args.Subscription ?? null, exception: args.Exception });
      this.wake();
    });
  }

  /// A failure outside the event handlers (Open() rejected).
  fail(error) {
    this.errors.push({ subscription: null, exception: error });
    this.wake();
  }

  /// Waits (bounded) for an error that matches; answers it.
  async waitForError(predicate, what) {
    const deadline = Date.now() + EVENT_WAIT_MS;
    for (;;) {
      const found = this.errors.find(predicate);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${what} within ${EVENT_WAIT_MS} ms; saw ${this.errors.length} other errors`);
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 500));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  wake() {
    for (const waiter of this.waiters.splice(0)) waiter();
  }

  async waitFor(predicate, what) {
    const deadline = Date.now() + EVENT_WAIT_MS;
    for (;;) {
      const found = this.events.find(predicate);
      if (found) return found;
      if (this.errors.length) {
        const first = this.errors[0].exception;
        throw new Error(`subscription error while waiting for ${what}: ${first?.message ?? first}`);
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`no ${what} within ${EVENT_WAIT_MS} ms; saw ${this.events.map((e) => EventType[e.EventType]).join(', ') || 'no events'}`);
      }
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 500));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}

