#!/usr/bin/env python3
"""Appends N events to the audit chain of a migrated naskah SQLite database.

The hashes are computed here, independently of the Rust code, from the encoding
documented in src/audit/mod.rs (naskah.audit.v1), so `naskah audit verify`
accepting the result cross-checks that documentation. Used to measure verify
speed on a large chain:

    naskah migrate --data-dir /tmp/nb
    scripts/audit_chain_fixture.py /tmp/nb/naskah.db 1000000
    time naskah audit verify --data-dir /tmp/nb
"""
import hashlib
import sqlite3
import struct
import sys

TAG = b"naskah.audit.v1\0"


def event_hash(prev: bytes, seq: int, time_us: int, outcome: int, fields) -> bytes:
    h = hashlib.sha256()
    h.update(TAG)
    h.update(prev)
    h.update(struct.pack(">q", seq))
    h.update(struct.pack(">q", time_us))
    h.update(struct.pack(">h", outcome))
    for f in fields:
        b = f.encode()
        h.update(struct.pack(">I", len(b)))
        h.update(b)
    return h.digest()


def main() -> None:
    db, n = sys.argv[1], int(sys.argv[2])
    con = sqlite3.connect(db)
    last_seq, last_hash = con.execute("SELECT last_seq, last_hash FROM audit_head WHERE id = 1").fetchone()
    prev = bytes.fromhex(last_hash)
    rows = []
    for i in range(1, n + 1):
        seq = last_seq + i
        t = 1_790_000_000_000_000 + seq
        # agency, user, position, action, resource type, resource id, reason, request id, client, summary
        f = ["fixture-agency", "fixture-user", "fixture-position", "/naskah.v1.LetterService/GetLetter",
             "letter", f"letter-{seq}", "", f"request-{seq}", "127.0.0.1:50000", f"fixture event {seq}"]
        d = event_hash(prev, seq, t, 1, f)
        rows.append((seq, t, f[0], f[1], f[2], f[3], f[4], f[5], 1, f[6], f[7], f[8], f[9], prev.hex(), d.hex()))
        prev = d
        if len(rows) == 50_000 or i == n:
            con.executemany("INSERT INTO audit_event VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
            rows.clear()
    con.execute("UPDATE audit_head SET last_seq = ?, last_hash = ? WHERE id = 1", (last_seq + n, prev.hex()))
    con.commit()
    print(f"appended {n} events; head {prev.hex()}")


if __name__ == "__main__":
    main()
