"""exsim with --store sqlite:PATH keeps mailboxes across a restart: exchangelib finds its items
under the same ids and ChangeKeys, its sync state stays valid and reports only new changes,
and the outbox is kept."""
import datetime
import os
import tempfile

from exchangelib import Attendee, CalendarItem, EWSDateTime, EWSTimeZone, Mailbox
from exchangelib.items import SEND_TO_ALL_AND_SAVE_COPY
from exchangelib.recurrence import DailyPattern, Recurrence

from exsim_harness import Exsim, check, run, BOB

TZ = EWSTimeZone("UTC")


def at(day, hour):
    return EWSDateTime(2025, 6, day, hour, 0, tzinfo=TZ)


def restart_keeps_everything():
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "exsim.db")
        with Exsim(tls=False, extra=["--store", "sqlite:" + db], trace_subdir="first") as ex:
            acc = ex.account()
            single = CalendarItem(account=acc, folder=acc.calendar, subject="Kept", start=at(1, 9),
                                  end=at(1, 10),
                                  required_attendees=[Attendee(mailbox=Mailbox(email_address=BOB))])
            single.save(send_meeting_invitations=SEND_TO_ALL_AND_SAVE_COPY)
            series = CalendarItem(account=acc, folder=acc.calendar, subject="Series", start=at(2, 9),
                                  end=at(2, 10),
                                  recurrence=Recurrence(pattern=DailyPattern(interval=1),
                                                        start=datetime.date(2025, 6, 2), number=4))
            series.save()
            occ = series.occurrence(index=2)
            occ.refresh()
            occ.delete()
            gone = CalendarItem(account=acc, folder=acc.calendar, subject="Gone", start=at(3, 9),
                                end=at(3, 10))
            gone.save()
            gone.delete()
            list(acc.calendar.sync_items())
            state = acc.calendar.item_sync_state
            ids = {single.id: single.changekey}
            series_id = series.id
        with Exsim(tls=False, extra=["--store", "sqlite:" + db], trace_subdir="second") as ex:
            acc = ex.account()
            got = acc.calendar.get(id=single.id)
            check(got.subject == "Kept" and got.changekey == ids[single.id], "same id and ChangeKey")
            master = acc.calendar.get(id=series_id)
            check(len(master.deleted_occurrences or []) == 1, "deleted occurrence kept")
            check([m["kind"] for m in ex.admin("outbox")] == ["MeetingRequest"], "outbox kept")
            new = CalendarItem(account=acc, folder=acc.calendar, subject="After restart",
                               start=at(5, 9), end=at(5, 10))
            new.save()
            acc.calendar.item_sync_state = state
            changes = [(t, getattr(i, "subject", None)) for t, i in acc.calendar.sync_items()]
            check(changes == [("create", "After restart")], f"sync after restart: {changes}")


run([restart_keeps_everything])
