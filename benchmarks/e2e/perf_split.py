#!/usr/bin/env python3
"""Splits a perf profile of our two nodes (tcp_threads.sh PROFILE=DIR) thread by thread.

    python3 benchmarks/e2e/perf_split.py DIR/default-1.data DIR/default-1.pids

Each sample counts for the function it was taken in (the leaf of its call chain), in one of:
kernel copies (copy to or from user memory: TUN reads and writes, socket sends and receives),
switches and wake-ups (the scheduler's functions), the rest of the kernel (the network stacks,
system call entry), our checksums (InternetChecksum, the coalescer's check), the rest of our
Java, and the JVM and libc. A (the pids file's A=) is the node the TCP data leaves from, B the one
it arrives at. Threads under 1% of the samples are left out. Needs perf, and the nodes' perf maps
(/tmp/perf-PID.map) for Java frames.
"""
import collections
import re
import subprocess
import sys

COPIES = re.compile(r"copy_(to|from)_iter|copy_page_(to|from)_iter|memcpy|memmove|csum_partial_copy")
SWITCHES = re.compile(r"finish_task_switch|__schedule|^schedule|try_to_wake_up|ttwu|_raw_spin_unlock_irqrestore"
                      r"|pick_next|dequeue_task|enqueue_task|update_curr|select_task_rq")


def kind(sym, dso):
    if "kernel" in dso:
        if COPIES.search(sym):
            return "kernel copies"
        if SWITCHES.search(sym):
            return "kernel switches and wake-ups"
        return "kernel, the rest"
    if "InternetChecksum" in sym or "checksumsValid" in sym:
        return "our checksums"
    if "JIT" in dso or "perf-" in dso:
        return "our Java, the rest"
    return "JVM and libc"


def main(data, pids):
    side = {pid: name for name, pid in (kv.split("=") for kv in open(pids).read().split())}
    script = subprocess.run(["perf", "script", "-i", data, "-F", "comm,pid,tid,ip,sym,dso"],
                            capture_output=True, text=True, check=True).stdout
    counts = collections.Counter()
    threads = collections.Counter()
    header = None
    for line in script.splitlines():
        m = re.match(r"^\s*(\S.*?)\s+(\d+)/(\d+)\s*$", line)
        if m:
            header = m.groups()
            continue
        if header is None or not line.strip():
            continue
        comm, pid, _ = header
        header = None  # the first line of the chain is the leaf
        m = re.match(r"\s*[0-9a-f]+\s+(.*)\s+\((.*)\)\s*$", line)
        sym, dso = (m.group(1), m.group(2)) if m else (line.strip(), "")
        thread = "%s %s" % (side.get(pid, "?"), comm.strip())
        counts[thread, kind(sym, dso)] += 1
        threads[thread] += 1
    total = sum(threads.values()) or 1
    for thread, n in threads.most_common():
        if n < total / 100:
            continue
        print("%-24s %5.1f%% of the samples" % (thread, 100 * n / total))
        for (t, k), c in sorted(counts.items(), key=lambda x: -x[1]):
            if t == thread:
                print("    %-32s %5.1f%%" % (k, 100 * c / n))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: perf_split.py PERF_DATA PIDS_FILE")
    main(sys.argv[1], sys.argv[2])
