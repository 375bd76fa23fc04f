#!/usr/bin/python3
"""Outlook's side of the scale tests, by an independent EWS client (exchangelib).

Reads one "<mailbox> <subject>" line per change on stdin, creates a calendar item with that
subject in the mailbox (the service account impersonating it, as Outlook's own writes land
in the mailbox), and prints "<subject> <epoch milliseconds>" once EWS acknowledged it.
Usage: outlook_writer.py EWS_URL CA_BUNDLE USER PASSWORD
"""
import os
import sys
import time
from datetime import timedelta

ews_url, ca_bundle, user, password = sys.argv[1:5]
os.environ["REQUESTS_CA_BUNDLE"] = ca_bundle

from exchangelib import (Account, CalendarItem, Configuration, Credentials, EWSDateTime,  # noqa: E402
                         EWSTimeZone, IMPERSONATION)
from exchangelib.version import Build, Version  # noqa: E402

config = Configuration(service_endpoint=ews_url, credentials=Credentials(user, password),
                       auth_type="basic", version=Version(build=Build(15, 1)))
utc = EWSTimeZone("UTC")
day = 0
print("ready", flush=True)
for line in sys.stdin:
    mailbox, subject = line.split()
    account = Account(mailbox, config=config, autodiscover=False, access_type=IMPERSONATION)
    day += 1
    start = EWSDateTime(2027, 3, 1, 9, 0, tzinfo=utc) + timedelta(days=day)
    item = CalendarItem(account=account, folder=account.calendar, subject=subject, start=start,
                        end=start + timedelta(hours=1))
    item.save(send_meeting_invitations="SendToNone")
    print(subject, int(time.time() * 1000), flush=True)
