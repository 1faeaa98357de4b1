"""`make bench`: run every benchmark; each prints its own table."""

from __future__ import annotations

from bench import ack_latency


def main() -> None:
    ack_latency.main()


if __name__ == "__main__":
    main()
