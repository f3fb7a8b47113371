"""What both example consumers keep, in SQLite: the members they heard of, the event ids they handled
(so that a repeated delivery does nothing) and the members erased (so that nothing brings them back)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from passerelle.contracts import CloudEvent, MemberErased, MemberRegistered


class Store:
    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path)
        self.db.executescript(
            "CREATE TABLE IF NOT EXISTS handled (event_id TEXT PRIMARY KEY);"
            "CREATE TABLE IF NOT EXISTS members (member_id TEXT PRIMARY KEY, name TEXT, email TEXT);"
            "CREATE TABLE IF NOT EXISTS erased (member_id TEXT PRIMARY KEY);"
        )

    def handle(self, event: CloudEvent[MemberRegistered] | CloudEvent[MemberErased]) -> str:
        """One transaction per event: its effect and its id together, or neither."""
        with self.db:
            if self.db.execute("SELECT 1 FROM handled WHERE event_id = ?", (event.id,)).fetchone():
                return f"already handled {event.id}"
            self.db.execute("INSERT INTO handled VALUES (?)", (event.id,))
            data = event.data
            if isinstance(data, MemberErased):
                # The duty that comes with the data: forget the person, keep only that they were erased.
                self.db.execute("DELETE FROM members WHERE member_id = ?", (data.member_id,))
                self.db.execute("INSERT OR IGNORE INTO erased VALUES (?)", (data.member_id,))
                return f"erased member {data.member_id}"
            # One durable per event type: an erasure may come before the registration it erases.
            if self.db.execute("SELECT 1 FROM erased WHERE member_id = ?", (data.member_id,)).fetchone():
                return f"ignored erased member {data.member_id}"
            self.db.execute(
                "INSERT OR REPLACE INTO members VALUES (?, ?, ?)",
                (data.member_id, data.display_name, str(data.email)),
            )
            return f"stored member {data.member_id}"
