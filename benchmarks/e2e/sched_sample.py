"""Where the threads of a TCP run through two nodes run: sched_sample.py SECONDS LABEL=PID ...

Samples every 20 ms the state and last CPU of every thread of the given processes
(/proc/PID/task/TID/stat) and reads their schedstat (CPU time, time waiting in a run queue,
slices run) at the start and the end. Prints, per busy thread, its share of a core running and
waiting, and for pairs of threads how often both were runnable on one core (they take turns)
or on two (they run in parallel). Labels: A and B the nodes, srv and cli the iperf3 processes.
The last line, "stacked N", is the percentage of samples with the sending node's egress thread
and the receiving node's receive thread both runnable on one core.
"""
import collections
import glob
import os
import sys
import time

seconds = float(sys.argv[1])
procs = [arg.split("=", 1) for arg in sys.argv[2:]]


def threads():
    found = {}
    for label, pid in procs:
        for task in glob.glob(f"/proc/{pid}/task/*"):
            try:
                comm = open(task + "/comm").read().strip()
            except OSError:
                continue
            found[f"{label}:{comm}:{os.path.basename(task)}"] = task
    return found


def schedstat(task):
    try:
        return [int(v) for v in open(task + "/schedstat").read().split()]
    except OSError:
        return [0, 0, 0]


def state_cpu(task):
    try:
        s = open(task + "/stat").read()
        fields = s[s.rindex(")") + 2:].split()
        return fields[0], int(fields[36])
    except OSError:
        return "?", -1


tasks = threads()
start = {k: schedstat(t) for k, t in tasks.items()}
samples = collections.defaultdict(list)
end = time.time() + seconds
while time.time() < end:
    for k, t in tasks.items():
        samples[k].append(state_cpu(t))
    time.sleep(0.02)
stop = {k: schedstat(t) for k, t in tasks.items()}

for k in sorted(tasks, key=lambda k: start[k][0] - stop[k][0]):
    run = (stop[k][0] - start[k][0]) / 1e9 / seconds
    if run < 0.03:
        continue
    wait = (stop[k][1] - start[k][1]) / 1e9 / seconds
    slices = (stop[k][2] - start[k][2]) / seconds
    s = samples[k]
    cpu0 = sum(1 for _, cpu in s if cpu == 0) / len(s)
    print(f"  {k:40s} running {run * 100:5.1f}%  waiting {wait * 100:5.1f}%  on cpu0 {cpu0 * 100:3.0f}%  slices/s {slices:6.0f}")


def find(label, prefix):
    return next((k for k in tasks if k.split(":")[0] == label and k.split(":")[1].startswith(prefix)), None)


stacked = -1
for (l1, p1), (l2, p2) in [(("A", "dp-egress"), ("B", "dp-udp")), (("B", "dp-udp"), ("srv", "iperf3")),
                           (("A", "dp-egress"), ("srv", "iperf3")), (("A", "dp-egress"), ("cli", "iperf3"))]:
    k1, k2 = find(l1, p1), find(l2, p2)
    if not k1 or not k2:
        continue
    n = min(len(samples[k1]), len(samples[k2]))
    both = [(samples[k1][i][1], samples[k2][i][1]) for i in range(n) if samples[k1][i][0] == "R" and samples[k2][i][0] == "R"]
    one = 100 * sum(1 for a, b in both if a == b) // n
    two = 100 * sum(1 for a, b in both if a != b) // n
    if (l1, l2) == ("A", "B"):
        stacked = one
    print(f"  {l1}:{p1} and {l2}:{p2} both runnable: on one core {one:3d}%, on two {two:3d}%")
print(f"stacked {stacked}")
