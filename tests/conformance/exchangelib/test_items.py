"""exchangelib against exsim: single calendar items (create/get/update/delete, ChangeKey
conflicts, extended properties, calendar view, batches, delete types). TLS + Basic auth."""
import datetime

from exchangelib import CalendarItem, EWSDateTime, EWSTimeZone, ExtendedProperty, Body, HTMLBody
from exchangelib.errors import ErrorIrresolvableConflict, ErrorItemNotFound
from exchangelib.items import HARD_DELETE, SOFT_DELETE, MOVE_TO_DELETED_ITEMS, SEND_TO_NONE

from exsim_harness import Exsim, check, run, ALICE


class IdempotencyKey(ExtendedProperty):
    property_set_id = "c11ff724-aa03-4555-9952-8fa248a11c3e"
    property_name = "AgendaSyncKey"
    property_type = "String"


CalendarItem.register("idempotency_key", IdempotencyKey)
TZ = EWSTimeZone("Europe/Berlin")


def at(day, hour, minute=0):
    return EWSDateTime(2024, 5, day, hour, minute, tzinfo=TZ)


with Exsim() as ex:
    acc = ex.account()

    def gone(item_id):
        # exchangelib hands per-item errors back as values.
        result = list(acc.fetch(ids=[(item_id, None)]))[0]
        return isinstance(result, ErrorItemNotFound)

    def create_get_update_delete():
        item = CalendarItem(account=acc, folder=acc.calendar, subject="Dentist", location="Town",
                            start=at(1, 9), end=at(1, 10), body=Body("bring card"),
                            categories=["Health", "Private"], sensitivity="Private",
                            reminder_is_set=True, reminder_minutes_before_start=30,
                            legacy_free_busy_status="OOF", idempotency_key="k-1")
        item.save(send_meeting_invitations=SEND_TO_NONE)
        first_key = item.changekey
        got = acc.calendar.get(id=item.id)
        check(got.subject == "Dentist" and got.location == "Town", f"fields lost: {got.subject}")
        check(got.start == at(1, 9) and got.end == at(1, 10), f"times: {got.start} {got.end}")
        check(sorted(got.categories) == ["Health", "Private"], f"categories {got.categories}")
        check(got.sensitivity == "Private" and got.legacy_free_busy_status == "OOF", "enums")
        check(got.reminder_is_set and got.reminder_minutes_before_start == 30, "reminder")
        check(got.body == "bring card", f"body {got.body!r}")
        check(got.idempotency_key == "k-1", f"extended property {got.idempotency_key!r}")
        check(got.type == "Single", f"CalendarItemType {got.type}")
        check(got.uid, "UID must be set by the server")
        got.subject = "Dentist (moved)"
        got.start, got.end = at(2, 14), at(2, 15)
        got.save(update_fields=["subject", "start", "end"])
        check(got.changekey != first_key, "ChangeKey must change on update")
        again = acc.calendar.get(id=item.id)
        check(again.subject == "Dentist (moved)" and again.start == at(2, 14), "update lost")
        again.delete()
        check(gone(item.id), "deleted item still readable")

    def stale_change_key_conflicts():
        item = CalendarItem(account=acc, folder=acc.calendar, subject="v1", start=at(3, 9),
                            end=at(3, 10))
        item.save()
        stale = acc.calendar.get(id=item.id)
        item.subject = "v2"
        item.save(update_fields=["subject"])
        stale.subject = "v3"
        try:
            stale.save(update_fields=["subject"], conflict_resolution="NeverOverwrite")
            raise AssertionError("a stale ChangeKey must give ErrorIrresolvableConflict")
        except ErrorIrresolvableConflict:
            pass
        # AutoResolve with a stale key on a field nobody else changed succeeds.
        stale.location = "Room 1"
        stale.save(update_fields=["location"], conflict_resolution="AutoResolve")
        # AlwaysOverwrite wins regardless.
        stale.subject = "v3"
        stale.save(update_fields=["subject"], conflict_resolution="AlwaysOverwrite")
        final = acc.calendar.get(id=item.id)
        check(final.subject == "v3" and final.location == "Room 1", f"{final.subject} {final.location}")

    def all_day_and_html_body():
        item = CalendarItem(account=acc, folder=acc.calendar, subject="Holiday", is_all_day=True,
                            start=datetime.date(2024, 5, 10), end=datetime.date(2024, 5, 11),
                            body=HTMLBody("<p>beach</p>"))
        item.save()
        got = acc.calendar.get(id=item.id)
        check(got.is_all_day, "IsAllDayEvent lost")
        check(isinstance(got.body, HTMLBody) and "beach" in got.body, f"HTML body {got.body!r}")

    def batches_and_calendar_view():
        items = [CalendarItem(account=acc, folder=acc.calendar, subject=f"Batch {i}",
                              start=at(20, 8 + i), end=at(20, 9 + i)) for i in range(5)]
        results = acc.bulk_create(folder=acc.calendar, items=items)
        check(len(results) == 5 and all(getattr(r, "id", None) for r in results), f"{results}")
        fetched = list(acc.fetch(ids=[(r.id, r.changekey) for r in results]))
        check([f.subject for f in fetched] == [f"Batch {i}" for i in range(5)], "batch GetItem")
        # Batch 1 ends exactly when the view starts: not in it, as on Exchange.
        view = list(acc.calendar.view(start=at(20, 10), end=at(20, 12)))
        check([v.subject for v in view] == ["Batch 2", "Batch 3"],
              f"calendar view {[v.subject for v in view]}")

    def search_by_extended_property():
        item = CalendarItem(account=acc, folder=acc.calendar, subject="Keyed", start=at(25, 9),
                            end=at(25, 10), idempotency_key="find-me")
        item.save()
        found = list(acc.calendar.filter(idempotency_key="find-me"))
        check(len(found) == 1 and found[0].subject == "Keyed", f"search found {found}")
        check(list(acc.calendar.filter(idempotency_key="nope")) == [], "search must not match")
        found = list(acc.calendar.filter(subject="Keyed"))
        check(len(found) == 1, "search by subject")

    def delete_types():
        for delete_type in (HARD_DELETE, SOFT_DELETE, MOVE_TO_DELETED_ITEMS):
            item = CalendarItem(account=acc, folder=acc.calendar, subject=f"Del {delete_type}",
                                start=at(28, 9), end=at(28, 10))
            item.save()
            item_id = item.id
            if delete_type == HARD_DELETE:
                item.delete()
            elif delete_type == SOFT_DELETE:
                item.soft_delete()
            else:
                item.move_to_trash()
            check(not list(acc.calendar.filter(subject=f"Del {delete_type}")),
                  f"{delete_type} left the item in the calendar")
            check(gone(item_id), f"the old id must be gone after {delete_type}")
        trash = list(acc.trash.filter(subject=f"Del {MOVE_TO_DELETED_ITEMS}"))
        check(len(trash) == 1, "MoveToDeletedItems puts the item in Deleted Items")

    run([create_get_update_delete, stale_change_key_conflicts, all_day_and_html_body,
         batches_and_calendar_view, search_by_extended_property, delete_types])
