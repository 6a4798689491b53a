"""Master key rotation: every sealed recording's data key wrapped again by the current master key.
The audio is not touched (its data key does not change); a crash halfway leaves some rows on the
old key, which stays configured until a run finds none left."""

from __future__ import annotations

from callisto_recording.sealing import MasterKeys
from callisto_recording.store import RecordingStore


async def rekey(store: RecordingStore, keys: MasterKeys, batch: int = 500) -> int:
    """How many data keys were wrapped again."""
    done = 0
    while rows := await store.wrapped_by_others(keys.current, batch):
        for row in rows:
            again = keys.rewrap(row["key_id"], row["wrapped_key"])
            await store.rewrapped(row["id"], row["key_id"], again.key_id, again.wrapped)
            done += 1
    return done
