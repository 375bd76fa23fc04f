"""exchangelib against exsim: SyncFolderItems from scratch, incrementally, paged across more
than 512 changes, occurrence edits as master updates, and a forged sync state refused."""
import datetime

from exchangelib import CalendarItem, EWSDateTime, EWSTimeZone
from exchangelib.errors import ErrorInvalidSyncStateData
from exchangelib.recurrence import DailyPattern, Recurrence

from exsim_harness import Exsim, check, run, ALICE

TZ = EWSTimeZone("UTC")


def at(day, hour):
    return EWSDateTime(2025, 1, day, hour, 0, tzinfo=TZ)


def drain(folder, state=None, page=512):
    """Runs sync_items until the end; returns (creates, updates, deletes, pages, state)."""
    folder.item_sync_state = state
    creates, updates, deletes = [], [], []
    pages = 0
    for change_type, item in folder.sync_items(max_changes_returned=page):
        if change_type == "create":
            creates.append(item)
        elif change_type == "update":
            updates.append(item)
        elif change_type == "delete":
            deletes.append(item)
    return creates, updates, deletes, folder.item_sync_state


with Exsim() as ex:
    acc = ex.account()

    def from_scratch_then_incremental():
        a = CalendarItem(account=acc, folder=acc.calendar, subject="A", start=at(1, 9), end=at(1, 10))
        b = CalendarItem(account=acc, folder=acc.calendar, subject="B", start=at(2, 9), end=at(2, 10))
        a.save()
        b.save()
        creates, updates, deletes, state = drain(acc.calendar)
        check(sorted(i.subject for i in creates) == ["A", "B"] and not updates and not deletes,
              f"first sync {len(creates)}/{len(updates)}/{len(deletes)}")
        c, u, d, same = drain(acc.calendar, state)
        check(not c and not u and not d, "no changes since the state")
        a.subject = "A2"
        a.save(update_fields=["subject"])
        b_id = b.id  # exchangelib forgets the id of a deleted item
        b.delete()
        n = CalendarItem(account=acc, folder=acc.calendar, subject="N", start=at(3, 9), end=at(3, 10))
        n.save()
        gone = CalendarItem(account=acc, folder=acc.calendar, subject="Gone", start=at(3, 9),
                            end=at(3, 10))
        gone.save()
        gone.delete()  # created and deleted between two syncs: never seen by the client
        c, u, d, state2 = drain(acc.calendar, same)
        check([i.subject for i in c] == ["N"], f"creates {[i.subject for i in c]}")
        check([i.id for i in u] == [a.id], "update of A")
        check([getattr(i, "id", i) for i in d] == [b_id], f"delete of B: {d}")

    def paging_across_more_than_512_changes():
        base = ex.admin("mailboxes")[0]["items"]
        ex.admin(f"mailboxes/{ALICE}/seed", {"count": 700, "subject_prefix": "Seed"})
        creates, _, _, state = drain(acc.calendar, None, page=512)
        check(len(creates) == 700 + base, f"paged sync returned {len(creates)}, want {700 + base}")
        check(len({i.id for i in creates}) == len(creates), "no item twice")
        # The raw service: at most 512 per page and IncludesLastItemInRange on the last one only.
        from exchangelib.services import SyncFolderItems
        svc = SyncFolderItems(account=acc, chunk_size=512)
        pages = []
        sync_state = None
        for _ in range(10):
            changes = list(svc.call(folder=acc.calendar, shape="IdOnly", additional_fields=None,
                                    sync_state=sync_state, ignore=None, max_changes_returned=512,
                                    sync_scope=None))
            pages.append((len(changes), svc.includes_last_item_in_range))
            sync_state = svc.sync_state
            if svc.includes_last_item_in_range:
                break
        check(pages[0] == (512, False) and pages[-1][1] is True and
              sum(p[0] for p in pages) == 700 + base, f"pages {pages}")

    def occurrence_change_is_master_update():
        master = CalendarItem(account=acc, folder=acc.calendar, subject="Series", start=at(10, 9),
                              end=at(10, 10),
                              recurrence=Recurrence(pattern=DailyPattern(interval=1),
                                                    start=datetime.date(2025, 1, 10), number=3))
        master.save()
        _, _, _, state = drain(acc.calendar)
        occ = master.occurrence(index=2)
        occ.refresh()
        occ.delete()
        c, u, d, _ = drain(acc.calendar, state)
        check(not c and not d and [i.id for i in u] == [master.id],
              f"occurrence delete must show as master update: {len(c)}/{[i.id for i in u]}/{len(d)}")

    def forged_state_refused():
        _, _, _, state = drain(acc.calendar)
        forged = state[:-6] + ("AAAAAA" if not state.endswith("AAAAAA") else "BBBBBB")
        try:
            drain(acc.calendar, forged)
            raise AssertionError("a tampered SyncState must be refused")
        except ErrorInvalidSyncStateData:
            pass

    run([from_scratch_then_incremental, paging_across_more_than_512_changes,
         occurrence_change_is_master_update, forged_state_refused])
