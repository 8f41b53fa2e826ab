"""`make bench-lists`: one release to 5,000 journalists on 10 media lists through a local aiosmtpd sink.

Beside it, in the same run, the transport limit: the same sink taking the last message it got, 3,000 times
over one connection from a bare smtplib loop, as fast as it goes. The media list send runs in its own process
(`newsroom notify`, as cron runs it), one SMTP connection like every newsroom send.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import smtplib
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))

from aiosmtpd.controller import Controller  # noqa: E402

from newsroom.build.run import BuildOptions, load_settings  # noqa: E402
from newsroom.mail import medialists, store  # noqa: E402
from newsroom.mail.notify import notify  # noqa: E402
from sitebuilder import build_site, release, write_content  # noqa: E402
from smtpsink import free_port  # noqa: E402

BEFORE, AFTER = "2026-02-01T12:00+02:00", "2026-03-01T09:05+02:00"
LISTS = 10


class Sink:
    def __init__(self) -> None:
        self.count = 0
        self.last = b""

    async def handle_DATA(self, server, session, envelope) -> str:
        self.count += 1
        self.last = envelope.original_content
        return "250 OK"


def transport_limit(port: int, sink: Sink, message: bytes, count: int) -> float:
    """Messages a second a bare smtplib loop gets through to the same sink: the ceiling of one connection."""
    before = sink.count
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for n in range(count):
            smtp.sendmail("bench@bench.example", [f"limit{n}@bench.example"], message)
    elapsed = time.perf_counter() - started
    assert sink.count - before == count
    return count / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--journalists", type=int, default=5_000)
    count = parser.parse_args().journalists
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        names = ", ".join(f"list-{n}" for n in range(LISTS))
        content = write_content(
            root / "content",
            {
                "old.fi.md": release("Arkiston tiedote", "2026-01-10 09:00", release_id="old"),
                "new.fi.md": release("Uusi kirjasto avautuu", "2026-03-01 09:00", release_id="new", Distribution=names),
                "new.sv.md": release(
                    "Nya biblioteket öppnar", "2026-03-01 09:00", lang="sv", release_id="new", Distribution=names
                ),
            },
        )
        before = build_site(content, root / "before", publish=True, now=BEFORE).output
        after = build_site(content, root / "after", publish=True, now=AFTER).output
        db = root / "newsroom.sqlite3"
        conn = store.connect(db)
        imported = 0.0
        # Each journalist on one list; every fifth on a second one too (sent once all the same).
        for n in range(LISTS):
            listing = root / f"list-{n}.csv"
            with listing.open("w", newline="") as handle:
                writer = csv.writer(handle)
                writer.writerow(("email", "name", "outlet", "languages", "beats"))
                writer.writerows(
                    (f"j{k:05d}@bench.example", f"Toimittaja {k}", "Lehti", "sv;fi" if k % 3 else "fi", "kulttuuri")
                    for k in range(count)
                    if k % LISTS == n or (k % 5 == 0 and (k // 5) % LISTS == n)
                )
            started = time.perf_counter()
            medialists.import_csv(conn, f"list-{n}", listing, ("fi", "sv", "en"), store.unstamp("2026-01-01T00:00:00Z"))
            imported += time.perf_counter() - started
        memberships = conn.execute("SELECT count(*) FROM list_members").fetchone()[0]
        conn.close()
        sink = Sink()
        port = free_port()
        controller = Controller(sink, hostname="127.0.0.1", port=port)
        controller.start()
        env = {
            **os.environ,
            "NEWSROOM_DB": str(db),
            "NEWSROOM_SMTP_URL": f"smtp://127.0.0.1:{port}",
            "NEWSROOM_STATE_DIR": str(root / "state"),
        }
        settings = load_settings(BuildOptions(ROOT / "publishconf.py", content))
        settings.update(NEWSROOM_DB=str(db), NEWSROOM_SMTP_URL=env["NEWSROOM_SMTP_URL"])
        notify(settings, before, BEFORE)  # the first run: the archive is recorded, nothing sent
        try:
            command = ["notify", "--output", str(after), "--now", AFTER, "--content", str(content)]
            started = time.perf_counter()
            result = subprocess.run(
                [sys.executable, "-m", "newsroom.cli", *command], cwd=ROOT, env=env, capture_output=True, text=True
            )
            elapsed = time.perf_counter() - started
            sent = sink.count
            limit = transport_limit(port, sink, sink.last, 3_000)
        finally:
            controller.stop()
        if result.returncode != 0:
            raise SystemExit(f"notify failed:\n{result.stdout}{result.stderr}")
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(
            json.dumps(
                {
                    "journalists": count,
                    "lists": LISTS,
                    "memberships": memberships,
                    "import_s": round(imported, 2),
                    "sent": sent,
                    "message_bytes": len(sink.last),
                    "notify_process_s": round(elapsed, 2),
                    "messages_per_s": round(sent / elapsed),
                    "transport_limit_messages_per_s": round(limit),
                    "share_of_limit": round(sent / elapsed / limit, 2),
                    "notify_peak_memory_mb": round(peak_mb, 1),
                },
                indent=1,
            )
        )


if __name__ == "__main__":
    main()
