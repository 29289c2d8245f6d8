"""Peak memory of a command and every process it starts (the summed RSS of the process tree).

    python benchmarks/tree_memory.py vbot play --policy best.pt --episodes 1 --video out.mp4

``/usr/bin/time``'s maximum RSS is that of one process; a command that pipes frames to an encoder
or reads its policy in a child uses several at once. This samples /proc every 20 ms and prints one
JSON object on stderr: the tree's peak, the main process's peak, the wall time and the exit code.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

PERIOD_S = 0.02


def children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                found += [int(x) for x in f.read().split()]
    except OSError:  # the process ended meanwhile
        pass
    return found


def rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: python benchmarks/tree_memory.py COMMAND [ARGS...]", file=sys.stderr)
        return 2
    started = time.time()
    proc = subprocess.Popen(argv)
    peak_tree = peak_main = 0
    while proc.poll() is None:
        tree = [proc.pid]
        for pid in tree:  # grows while it is walked: breadth first over the descendants
            tree += children(pid)
        peak_tree = max(peak_tree, sum(rss_kb(p) for p in tree))
        peak_main = max(peak_main, rss_kb(proc.pid))
        time.sleep(PERIOD_S)
    print(json.dumps({"command": argv, "peak_tree_mb": round(peak_tree / 1024), "peak_main_mb": round(peak_main / 1024),
                      "wall_s": round(time.time() - started, 1), "returncode": proc.returncode}), file=sys.stderr)
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
