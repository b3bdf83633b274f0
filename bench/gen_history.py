#!/usr/bin/env python3
"""Writes a `git fast-import` stream for a benchmark repository: real source
text (crate sources from the cargo registry) committed, then modified over
thousands of commits, until the unique blob bytes reach a target."""
import os
import random
import sys

src_root, target_bytes = sys.argv[1], int(sys.argv[2])
initial_files = int(os.environ.get("BENCH_INITIAL_FILES", "6000"))
per_commit = int(os.environ.get("BENCH_FILES_PER_COMMIT", "12"))
rng = random.Random(42)

paths = []
for dirpath, dirnames, filenames in os.walk(src_root):
    dirnames.sort()
    for f in sorted(filenames):
        if f.endswith((".rs", ".md", ".toml", ".c", ".h", ".py", ".txt")):
            p = os.path.join(dirpath, f)
            try:
                size = os.path.getsize(p)
            except OSError:
                continue
            if 200 <= size <= 400_000:
                paths.append(p)
rng.shuffle(paths)
paths = paths[:initial_files]

out = sys.stdout.buffer
mark = 0
files = {}  # repo path -> list of lines
for p in paths:
    with open(p, "rb") as fh:
        rel = os.path.relpath(p, src_root).replace(os.sep, "/")
        files[rel] = fh.read().split(b"\n")
names = sorted(files)
total = 0
when = 1_500_000_000


def blob(data):
    global mark
    mark += 1
    out.write(b"blob\nmark :%d\ndata %d\n" % (mark, len(data)))
    out.write(data)
    out.write(b"\n")
    return mark


def commit(msg, changes):
    global when
    when += 600
    out.write(b"commit refs/heads/main\n")
    out.write(b"author Bench <bench@leakscan.invalid> %d +0000\n" % when)
    out.write(b"committer Bench <bench@leakscan.invalid> %d +0000\n" % when)
    out.write(b"data %d\n%s\n" % (len(msg), msg))
    # fast-import continues a branch from its last commit in the stream.
    for name, m in changes:
        out.write(b"M 100644 :%d %s\n" % (m, name.encode()))
    out.write(b"\n")


# Initial import in batches of 500 files per commit.
n = 0
for i in range(0, len(names), 500):
    changes = []
    for name in names[i : i + 500]:
        data = b"\n".join(files[name])
        total += len(data)
        changes.append((name, blob(data)))
    commit(b"import batch %d" % n, changes)
    n += 1

# Then commits that each edit a few files (insert and change lines).
c = 0
while total < target_bytes:
    changes = []
    for name in rng.sample(names, per_commit):
        lines = files[name]
        pos = rng.randrange(len(lines) + 1)
        lines.insert(pos, b"// edit %d of %s: %d" % (c, name.encode(), rng.randrange(1 << 30)))
        if len(lines) > 3:
            j = rng.randrange(len(lines))
            lines[j] = lines[j] + b" // touched %d" % c
        data = b"\n".join(lines)
        total += len(data)
        changes.append((name, blob(data)))
    commit(b"edit %d" % c, changes)
    c += 1
sys.stderr.write("generated %d commits, %d unique blob bytes\n" % (n + c, total))
