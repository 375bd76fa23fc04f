#!/usr/bin/python3
"""Scenario 2, the peer: exchangelib (Debian python3-exchangelib) bulk-creates the same items
scenario 1 synced (bench_first_sync --items-out), applies the same occurrence exceptions
(one moved and renamed, one deleted per series), then reads every item back in full (FindItem
ids, GetItem with every field). Prints one JSON object with the seconds of each part.

  /usr/bin/python3 exchangelib_peer.py --ews-url URL --ca exsim-ca.pem --items items.json \
      [--mailbox peer@example.com] [--user svc@example.com] [--password s3cret]
"""
import argparse
import datetime
import json
import os
import sys
import time


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--ews-url", required=True)
    p.add_argument("--ca", required=True)
    p.add_argument("--items", required=True)
    p.add_argument("--mailbox", default="peer@example.com")
    p.add_argument("--user", default="svc@example.com")
    p.add_argument("--password", default="s3cret")
    args = p.parse_args()
    os.environ["REQUESTS_CA_BUNDLE"] = args.ca  # exsim's CA, as the conformance suites trust it

    from exchangelib import (IMPERSONATION, Account, Attendee, Body, CalendarItem, Configuration,
                             Credentials, EWSDate, EWSDateTime, EWSTimeZone, Mailbox)
    from exchangelib.items import SEND_TO_NONE
    from exchangelib.recurrence import Recurrence, WeeklyPattern

    specs = json.load(open(args.items))
    config = Configuration(service_endpoint=args.ews_url,
                           credentials=Credentials(args.user, args.password), auth_type="basic")
    account = Account(args.mailbox, config=config, autodiscover=False, access_type=IMPERSONATION)

    def instant(text, zone):
        return EWSDateTime.from_string(text).astimezone(zone)

    def make_item(spec):
        zone = EWSTimeZone(spec["time_zone"])
        fields = dict(account=account, folder=account.calendar, subject=spec["subject"],
                      body=Body(spec["body"]), location=spec["location"],
                      sensitivity=spec["sensitivity"], reminder_is_set=True,
                      reminder_minutes_before_start=spec["reminder_minutes"],
                      required_attendees=[Attendee(mailbox=Mailbox(email_address=a),
                                                   response_type="Unknown")
                                          for a in spec["attendees"]] or None)
        if spec["all_day"]:
            fields.update(is_all_day=True, start=EWSDate.from_string(spec["start"]),
                          end=EWSDate.from_string(spec["end"]))
        else:
            start = instant(spec["start"], zone)
            fields.update(start=start, end=instant(spec["end"], zone))
        if "weekly_count" in spec:
            start = instant(spec["start"], zone)
            fields["recurrence"] = Recurrence(
                pattern=WeeklyPattern(interval=1, weekdays=[start.isoweekday()]),
                start=start.date(), number=spec["weekly_count"])
        return CalendarItem(**fields)

    items = [make_item(s) for s in specs]
    started = time.monotonic()
    created = account.bulk_create(folder=account.calendar, items=items, chunk_size=100,
                                  send_meeting_invitations=SEND_TO_NONE)
    failed = [c for c in created if isinstance(c, Exception)]
    if failed:
        sys.exit(f"exchangelib: {len(failed)} creates failed, first: {failed[0]!r}")
    # bulk_create answers ids only: occurrences are addressed from the master's id.
    series = [(CalendarItem(account=account, folder=account.calendar, id=c.id,
                            changekey=c.changekey), s)
              for c, s in zip(created, specs) if "weekly_count" in s]
    moved = list(account.fetch(ids=[c.occurrence(s["moved_occurrence"]) for c, s in series],
                               chunk_size=100))
    shift = datetime.timedelta(minutes=series[0][1]["moved_minutes"]) if series else None
    for occurrence, (_, spec) in zip(moved, series):
        occurrence.subject = spec["moved_subject"]
        occurrence.start += shift
        occurrence.end += shift
    account.bulk_update([(o, ["subject", "start", "end"]) for o in moved], chunk_size=100,
                        send_meeting_invitations_or_cancellations=SEND_TO_NONE)
    deleted = list(account.fetch(ids=[c.occurrence(s["deleted_occurrence"]) for c, s in series],
                                 chunk_size=100))
    account.bulk_delete(deleted, chunk_size=100, send_meeting_cancellations=SEND_TO_NONE)
    created_at = time.monotonic()

    ids = list(account.calendar.all().only("id", "changekey"))
    full = list(account.fetch(ids=ids, chunk_size=100))
    done = time.monotonic()
    bad = [f for f in full if isinstance(f, Exception)]
    print(json.dumps({
        "scenario": "exchangelib_peer",
        "items": len(specs),
        "read_back": len(full) - len(bad),
        "create_seconds": created_at - started,
        "read_seconds": done - created_at,
        "wall_seconds": done - started,
        "exchangelib_version": __import__("exchangelib").__version__,
    }))
    return 0 if len(full) - len(bad) == len(specs) else 1


if __name__ == "__main__":
    sys.exit(main())
