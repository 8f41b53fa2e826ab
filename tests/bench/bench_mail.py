"""`make bench-mail`: one release to 10,000 subscribers through a local aiosmtpd sink; messages/second, peak memory.

The sending runs in its own process (`newsroom notify`, as cron runs it), so its peak memory is its own; the sink
runs here, on the same machine, and only counts what it accepts.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))

from aiosmtpd.controller import Controller  # noqa: E402

from newsroom.build.run import BuildOptions, load_settings  # noqa: E402
from newsroom.mail import store, subscribers  # noqa: E402
from newsroom.mail.notify import notify  # noqa: E402
from sitebuilder import build_site, release, write_content  # noqa: E402
from smtpsink import free_port  # noqa: E402

BEFORE, AFTER = "2026-02-01T12:00+02:00", "2026-03-02T12:00+02:00"


class Counter:
    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server, session, envelope) -> str:
        self.count += 1
        return "250 OK"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subscribers", type=int, default=10_000)
    count = parser.parse_args().subscribers
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        content = write_content(
            root / "content",
            {
                "old.fi.md": release("Arkiston tiedote", "2026-01-10 09:00", release_id="old"),
                "new.fi.md": release(
                    "Uusi kirjasto avautuu",
                    "2026-03-01 09:00",
                    release_id="new",
                    Images="red-square",
                    Keywords="kirjastot",
                ),
            },
        )
        before = build_site(content, root / "before", publish=True, now=BEFORE).output
        after = build_site(content, root / "after", publish=True, now=AFTER).output
        db = root / "newsroom.sqlite3"
        listing = root / "subscribers.csv"
        with listing.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(("email", "languages"))
            writer.writerows((f"reader{n:06d}@bench.example", "fi") for n in range(count))
        conn = store.connect(db)
        started = time.perf_counter()
        report = subscribers.import_csv(conn, listing, ("fi", "sv", "en"), store.unstamp("2026-01-01T00:00:00.000000Z"))
        imported = time.perf_counter() - started
        conn.close()
        sink = Counter()
        port = free_port()
        controller = Controller(sink, hostname="127.0.0.1", port=port)
        controller.start()
        env = {**os.environ, "NEWSROOM_DB": str(db), "NEWSROOM_SMTP_URL": f"smtp://127.0.0.1:{port}"}
        settings = load_settings(BuildOptions(ROOT / "publishconf.py"))
        settings.update(NEWSROOM_DB=str(db), NEWSROOM_SMTP_URL=env["NEWSROOM_SMTP_URL"])
        notify(settings, before, BEFORE)  # the first run: the archive is recorded, nothing sent
        try:
            started = time.perf_counter()
            result = subprocess.run(
                [sys.executable, "-m", "newsroom.cli", "notify", "--output", str(after), "--now", AFTER],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
            )
            elapsed = time.perf_counter() - started
        finally:
            controller.stop()
        if result.returncode != 0:
            raise SystemExit(f"notify failed:\n{result.stdout}{result.stderr}")
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(
            json.dumps(
                {
                    "subscribers": count,
                    "imported_in_s": round(imported, 2),
                    "import_rows_per_s": round(report.added / imported),
                    "sent": sink.count,
                    "notify_process_s": round(elapsed, 2),
                    "messages_per_s": round(sink.count / elapsed),
                    "notify_peak_memory_mb": round(peak_mb, 1),
                },
                indent=1,
            )
        )


if __name__ == "__main__":
    main()
