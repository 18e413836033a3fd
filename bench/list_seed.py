#!/usr/bin/env python3
"""SQL that seeds one user's library for bench/list.sh: COUNT clips (and drives) with a
realistic spread, printed for `sqlite3` or `psql`.

    list_seed.py sqlite|postgres USER_ID DEVICE_ID[,DEVICE_ID...] COUNT > seed.sql

Two years of driving ending now: mostly daytime, peaks at commuting hours; 60 % of the
clips fall inside a drive of their device; 85 % are automatic with one or two
incidents (hard brakes most common, collisions rare), the rest manual; 80 % road view.
Deterministic (seed 8).
"""
import json
import random
import sys
import time
import uuid

TYPES = ["hard_brake", "sudden_stop", "hard_accel", "sharp_turn", "swerve", "collision"]
WEIGHTS = [35, 15, 15, 17, 15, 3]
DAY_MS = 86_400_000
BATCH = 1000


def main():
    engine, user, devices, count = sys.argv[1], sys.argv[2], sys.argv[3].split(","), int(sys.argv[4])
    rng = random.Random(8)
    now = int(time.time() * 1000)
    span = 2 * 365 * DAY_MS
    hours = [h for h in range(24) for _ in range(HOUR_WEIGHT[h])]

    def day_time():
        return rng.choice(hours) * 3_600_000 + rng.randrange(3_600_000)

    def when():
        day = (now - span + rng.randrange(span)) // DAY_MS * DAY_MS
        return day + day_time()

    q = Quote(engine)
    out = sys.stdout
    out.write("BEGIN;\n")
    drives = []
    for _ in range(max(1, count // 10)):
        device = rng.choice(devices)
        start = when()
        end = start + rng.randrange(10, 90) * 60_000
        views = "road,cabin" if rng.random() < 0.4 else "road"
        drives.append((uuid.uuid4(), device, start, end, views))
    for chunk in batches(drives):
        out.write("INSERT INTO drives (id, user_id, device_id, start_at, end_at, views, created_at) VALUES\n")
        out.write(",\n".join(
            f"({q.id(d)}, {q.id(user)}, {q.id(dev)}, {q.time(s)}, {q.time(e)}, '{v}', {q.time(e)})"
            for d, dev, s, e, v in chunk))
        out.write(";\n")
    rows = []
    for i in range(count):
        if rng.random() < 0.6:
            _, device, d_start, d_end, _ = rng.choice(drives)
            start = d_start + rng.randrange(max(1, d_end - d_start))
        else:
            device, start = rng.choice(devices), when()
        duration = rng.choice([20_000, 30_000, 40_000, 60_000])
        if rng.random() < 0.85:
            kinds = sorted(set(rng.choices(TYPES, WEIGHTS, k=rng.choice([1, 1, 1, 2]))))
            kind = "auto"
        else:
            kinds, kind = [], "manual"
        incidents = [
            {"type": t, "at": iso(start + duration // 2), "severity": round(rng.random(), 2)}
            for t in kinds
        ]
        mask = sum(1 << TYPES.index(t) for t in kinds)
        view = "road" if rng.random() < 0.8 else "cabin"
        sha = f"{i:064x}"
        rows.append((uuid.uuid4(), device, kind, view, json.dumps(incidents), sha, start, duration, mask))
    for chunk in batches(rows):
        out.write(
            "INSERT INTO clips (id, user_id, device_id, kind, view, incidents, blob_key, size, sha256, "
            "start_at, duration_ms, codec, width, height, keyframes, telemetry, filename, created_at, "
            "incident_mask) VALUES\n")
        out.write(",\n".join(
            f"({q.id(c)}, {q.id(user)}, {q.id(dev)}, '{kind}', '{view}', '{inc}', 'bench/{sha}', "
            f"{5_000_000 + start % 20_000_000}, '{sha}', {q.time(start)}, {dur}, 'avc1', 1920, 1080, "
            f"'[{{\"ms\":0,\"offset\":48}}]', '{{\"gps_fixes\":0,\"accel_samples\":0}}', "
            f"'{name(start, view)}', {q.time(start)}, {mask})"
            for c, dev, kind, view, inc, sha, start, dur, mask in chunk))
        out.write(";\n")
    out.write("COMMIT;\nANALYZE;\n")


# Relative likelihood of a clip starting in each hour of the day (UTC).
HOUR_WEIGHT = [1, 1, 1, 1, 1, 2, 4, 9, 10, 6, 5, 5, 6, 6, 5, 6, 8, 10, 9, 6, 4, 3, 2, 1]


class Quote:
    """Literals as each engine stores ids and times."""

    def __init__(self, engine):
        self.sqlite = engine == "sqlite"

    def id(self, value):
        u = uuid.UUID(str(value))
        return f"X'{u.hex}'" if self.sqlite else f"'{u}'"

    def time(self, ms):
        return str(ms) if self.sqlite else f"'{iso(ms)}'"


def iso(ms):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + f".{ms % 1000:03d}Z"


def name(ms, view):
    return time.strftime("%Y%m%d_%H%M%S", time.gmtime(ms // 1000)) + ("_EF.mp4" if view == "road" else "_EI.mp4")


def batches(items):
    for i in range(0, len(items), BATCH):
        yield items[i:i + BATCH]


if __name__ == "__main__":
    main()
