#!/usr/bin/env python3
"""Grow a stopped Tessera's SQLite store to USERS users and FAMILIES sessions, for the scale run.

    grow.py DB_FILE USERS FAMILIES [TOKENS_PER_FAMILY]

Adds users `grow000001`… (all with the stored password hash of the first benchmark user, so no
Argon2id work is needed to create them) and FAMILIES live refresh-token families spread over
them, each with TOKENS_PER_FAMILY rows in `refresh_tokens` (all but the last spent), as that
many rotations leave behind. Row shapes follow crates/server/migrations/sqlite/0001_initial.sql.
Benchmark data only: never point this at a real deployment's store. Prints the row counts.
Standard library only.
"""

import json
import os
import sqlite3
import sys
import time


def main():
    db, users, families = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    per_family = int(sys.argv[4]) if len(sys.argv) > 4 else 4
    now = int(time.time())
    con = sqlite3.connect(db)
    con.execute("PRAGMA journal_mode=WAL")
    (password,) = con.execute("SELECT password FROM users ORDER BY id LIMIT 1").fetchone()
    with con:
        con.executemany(
            "INSERT INTO users (username, email, password, is_active, is_staff, is_superuser,"
            " date_joined, tokens_valid_after) VALUES (?, ?, ?, 1, 0, 0, ?, 0)",
            ((f"grow{i:06d}", f"grow{i:06d}@example.com", password, now)
             for i in range(1, users + 1)),
        )
    ids = [row[0] for row in con.execute("SELECT id FROM users")]
    day = 86400
    with con:
        for start in range(0, families, 10000):
            fams, toks = [], []
            for f in range(start, min(families, start + 10000)):
                fid = os.urandom(16).hex()
                jtis = [os.urandom(16).hex() for _ in range(per_family)]
                fams.append((fid, ids[f % len(ids)], per_family, jtis[-1], now, now + day,
                             now, now, now + day))
                for g, jti in enumerate(jtis, start=1):
                    toks.append((jti, fid, g, now + day, now if g < per_family else None))
            con.executemany(
                "INSERT INTO refresh_families (id, user_id, generation, current_jti, current_iat,"
                " current_exp, rotated_at, created_at, expires_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", fams)
            con.executemany(
                "INSERT INTO refresh_tokens (jti, family_id, generation, expires_at, spent_at)"
                " VALUES (?, ?, ?, ?, ?)", toks)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    counts = {t: con.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
              for t in ("users", "refresh_families", "refresh_tokens")}
    con.close()
    counts["db_mib"] = round(os.path.getsize(db) / 2**20, 1)
    print(json.dumps(counts))


if __name__ == "__main__":
    main()
