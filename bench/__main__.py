"""`make bench`: run every benchmark; each prints its own table."""

from __future__ import annotations

import time

from bench import ack_latency, ingest, memory, paging, scale, storm, storm_ingest


def main() -> None:
    started = time.monotonic()
    for name, run in (
        ("ack latency", ack_latency.main),
        ("ingest", ingest.main),
        ("storm", lambda: storm.main([])),
        ("storm ingest", lambda: storm_ingest.main([])),
        ("memory", memory.main),
        ("paging", paging.main),
        ("processes", scale.main),
    ):
        began = time.monotonic()
        run()
        print(f"({name}: {time.monotonic() - began:.0f} s)\n", flush=True)
    print(f"all benchmarks: {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
