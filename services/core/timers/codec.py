"""Wire packing between the client and the Lua scripts.

Many timers travel as ONE bulk string, each "<len(id)>:<len(payload)>:<due_ms>:<id><payload>"
(lengths in bytes): encoding three arguments (or parsing three replies) per timer costs
the pure-Python client far more than slicing one blob. The first three colons of a
record are always in its header, so ids and payloads may contain any byte."""

from __future__ import annotations

from services.core.timers.model import ClaimedTimer


def pack_timer(timer_id: str, due_ms: int, payload: bytes) -> bytes:
    """One timer for the SCHEDULE script: "<len id>:<len payload>:<due ms>:<id><payload>"."""
    tid = timer_id.encode()
    return b"%d:%d:%d:%b%b" % (len(tid), len(payload), due_ms, tid, payload)


def unpack_claimed(packed: bytes, token: str, shard: str = "") -> list[ClaimedTimer]:
    """Parse the CLAIM script's "<len id>:<len payload>:<due ms>:<id><payload>"... blob."""
    timers = []
    pos, end = 0, len(packed)
    while pos < end:
        a = packed.index(b":", pos)
        b = packed.index(b":", a + 1)
        c = packed.index(b":", b + 1)
        id_end = c + 1 + int(packed[pos:a])
        payload_end = id_end + int(packed[a + 1 : b])
        due = int(float(packed[b + 1 : c])) / 1000
        timers.append(
            ClaimedTimer(packed[c + 1 : id_end].decode(), due, packed[id_end:payload_end], token,
                         shard)
        )
        pos = payload_end
    return timers
