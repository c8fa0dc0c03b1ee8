package io.dataplane.tun.testing;

import io.dataplane.core.testing.Prerequisites;
import io.dataplane.tun.netns.NetNamespace;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the tests of this JVM hold outside it (network namespaces, child processes, data
 * directories), so that none of it outlives the JVM, however the JVM ends.
 *
 * <p>A test that makes such a thing holds it here ({@link #namespace}, {@link #process}, {@link
 * #path}) and {@linkplain Hold#release releases} it once its own teardown has removed it. Each hold
 * is a record file in this JVM's owner directory under {@link #ROOT}, a directory named by the
 * JVM's PID and its start time in clock ticks since boot ({@code /proc/PID/stat}, field 22), so a
 * later process that gets the same PID is not taken for the owner.
 *
 * <ul>
 *   <li>A JVM that exits with holds left (SIGTERM, as {@code kill -- -PGID} sends it; or a normal
 *       exit after a teardown that did not run) removes them in a shutdown hook.
 *   <li>SIGKILL (a timeout's last resort), like {@code Runtime.halt}, runs nothing in the dying
 *       JVM. So the first hold in every JVM sweeps first: each owner directory whose JVM is gone has its
 *       holds removed the same way, and goes. An owner that lives, and a namespace without a
 *       record, are never touched: other runs of the suite share the machine.
 * </ul>
 *
 * Removal stops the processes first (SIGTERM, SIGKILL after two seconds; with their descendants),
 * then what still runs in each namespace ({@code ip netns pids}: the dead run's nodes and tools),
 * then deletes the namespaces (their devices go with them) and the paths.
 */
public final class Leftovers {
    /** Where owner directories live: {@code /run/dataplane-tests} for root, else under {@code java.io.tmpdir}. */
    public static final Path ROOT = root();

    private static final Pattern OWNER = Pattern.compile("(\\d+)-(\\d+)(?:\\.by-(\\d+)-(\\d+))?");
    private static final long GRACE_MILLIS = 2000;

    private static final Map<Long, Hold> HELD = new ConcurrentHashMap<>();
    private static final AtomicLong IDS = new AtomicLong();
    private static final Path OWN = start();

    /** What is held: a namespace by name, a process by PID and start time, a file or directory tree by path. */
    public enum Kind { NAMESPACE, PROCESS, PATH }

    /** One thing held by this JVM ({@code id} names its record file; -1: read from a dead owner's records). */
    public record Hold(long id, Kind kind, String value) {
        /** The test removed the thing itself: forgets it and deletes its record. */
        public void release() {
            if (HELD.remove(id) == null) return;
            try {
                Files.deleteIfExists(OWN.resolve(Long.toString(id)));
            } catch (IOException e) {
                throw new UncheckedIOException("releasing " + this + ": " + e.getMessage(), e);
            }
        }

        @Override
        public String toString() {
            return kind + " " + value;
        }
    }

    private Leftovers() {}

    /** Holds the namespace {@code name}; call before creating it, so that no moment leaves it unrecorded. */
    public static Hold namespace(String name) {
        return hold(Kind.NAMESPACE, name);
    }

    /** Holds the started process {@code process} (and its descendants), by PID and start time. */
    public static Hold process(ProcessHandle process) {
        Optional<Long> start = startTime(process.pid());
        // Already ended: nothing to stop, the record only says so.
        return hold(Kind.PROCESS, process.pid() + " " + start.orElse(-1L));
    }

    /** Holds the file or directory tree {@code path}. */
    public static Hold path(Path path) {
        return hold(Kind.PATH, path.toAbsolutePath().toString());
    }

    /** Deletes {@code path} ({@link Prerequisites#deleteTree}) and its hold: the end of a test's own teardown. */
    public static void deleteTree(Path path, Hold hold) {
        Prerequisites.deleteTree(path);
        hold.release();
    }

    /** This JVM's owner directory: {@code ROOT/PID-START}. */
    static Path ownerDirectory() {
        return OWN;
    }

    /** The name of the owner directory of process {@code pid} started at {@code start} (clock ticks since boot). */
    static String ownerName(long pid, long start) {
        return pid + "-" + start;
    }

    /** Writes a record of {@code kind value} as file {@code name} in {@code owner}; whole or not at all. */
    static void writeRecord(Path owner, String name, Kind kind, String value) throws IOException {
        Path tmp = owner.resolve(name + ".tmp");
        Files.writeString(tmp, kind + " " + value + "\n", StandardCharsets.UTF_8);
        Files.move(tmp, owner.resolve(name), StandardCopyOption.ATOMIC_MOVE);
    }

    /**
     * The start time of process {@code pid} in clock ticks since boot ({@code /proc/PID/stat}
     * field 22); empty if there is no such process, or it has ended and waits to be reaped.
     */
    static Optional<Long> startTime(long pid) {
        String stat;
        try {
            stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"), StandardCharsets.US_ASCII);
        } catch (IOException e) {
            return Optional.empty();
        }
        // Fields after the command name, which may hold spaces and parentheses: state is field 3.
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).trim().split(" ");
        if (fields[0].equals("Z") || fields[0].equals("X")) return Optional.empty();
        return Optional.of(Long.parseLong(fields[22 - 3]));
    }

    /** True if process {@code pid} runs and started at {@code start}. */
    static boolean alive(long pid, long start) {
        return startTime(pid).map(s -> s == start).orElse(false);
    }

    /** True if {@code p} runs (an ended process that no parent has reaped yet does not). */
    static boolean running(ProcessHandle p) {
        return startTime(p.pid()).isPresent();
    }

    private static Hold hold(Kind kind, String value) {
        Hold h = new Hold(IDS.incrementAndGet(), kind, value);
        try {
            writeRecord(OWN, Long.toString(h.id), kind, value);
        } catch (IOException e) {
            throw new UncheckedIOException("recording " + h + " in " + OWN + ": " + e.getMessage(), e);
        }
        HELD.put(h.id, h);
        return h;
    }

    private static Path root() {
        Path run = Path.of("/run");
        if (Files.isWritable(run)) return run.resolve("dataplane-tests");
        return Path.of(System.getProperty("java.io.tmpdir"), "dataplane-tests-" + System.getProperty("user.name"));
    }

    // Class initialization is the first use in this JVM: sweep what killed JVMs left, then make our owner directory.
    private static Path start() {
        long pid = ProcessHandle.current().pid();
        Path own = ROOT.resolve(ownerName(pid, startTime(pid).orElseThrow()));
        try {
            Files.createDirectories(ROOT);
            try {
                sweep();
            } catch (IOException | RuntimeException e) {
                System.err.println("test leftovers: sweeping " + ROOT + " failed: " + e);
            }
            Files.createDirectories(own);
        } catch (IOException e) {
            throw new UncheckedIOException("test leftovers: " + e.getMessage(), e);
        }
        Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().unstarted(Leftovers::removeOwn));
        return own;
    }

    /** Removes the holds of every owner directory under {@link #ROOT} whose JVM is gone, and the directory. */
    private static void sweep() throws IOException {
        List<Path> owners = new ArrayList<>();
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(ROOT)) {
            dirs.forEach(owners::add);
        }
        long me = ProcessHandle.current().pid();
        String myName = ownerName(me, startTime(me).orElseThrow());
        for (Path owner : owners) {
            Matcher m = OWNER.matcher(owner.getFileName().toString());
            if (!m.matches()) continue;
            // A directory another sweep claimed counts as its sweeper's while that sweeper lives.
            int at = m.group(3) != null ? 3 : 1;
            if (alive(Long.parseLong(m.group(at)), Long.parseLong(m.group(at + 1)))) continue;
            // Claimed by renaming, so two JVMs that start together do not both sweep it.
            Path claimed = owner.resolveSibling(m.group(1) + "-" + m.group(2) + ".by-" + myName);
            try {
                Files.move(owner, claimed, StandardCopyOption.ATOMIC_MOVE);
            } catch (NoSuchFileException e) {
                continue; // another sweep took it first
            }
            remove(claimed, readRecords(claimed));
        }
    }

    private static List<Hold> readRecords(Path owner) throws IOException {
        List<Hold> holds = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(owner)) {
            for (Path f : files) {
                String name = f.getFileName().toString();
                if (name.endsWith(".tmp")) continue; // never finished: nothing was made after it
                String line = Files.readString(f, StandardCharsets.UTF_8).strip();
                int space = line.indexOf(' ');
                if (space < 0) continue;
                Kind kind;
                try {
                    kind = Kind.valueOf(line.substring(0, space));
                } catch (IllegalArgumentException e) {
                    continue;
                }
                holds.add(new Hold(-1, kind, line.substring(space + 1)));
            }
        }
        return holds;
    }

    private static void removeOwn() {
        remove(OWN, List.copyOf(HELD.values()));
        HELD.clear();
    }

    /** Removes {@code holds} (processes, then namespaces with what runs in them, then paths), then {@code owner}. */
    private static void remove(Path owner, List<Hold> holds) {
        List<String> failures = new ArrayList<>();
        List<ProcessHandle> processes = new ArrayList<>();
        for (Hold h : holds) {
            if (h.kind != Kind.PROCESS) continue;
            String[] pidStart = h.value.split(" ");
            long pid = Long.parseLong(pidStart[0]);
            if (!alive(pid, Long.parseLong(pidStart[1]))) continue;
            ProcessHandle.of(pid).ifPresent(p -> {
                p.descendants().forEach(processes::add);
                processes.add(p);
            });
        }
        stop(processes);
        for (Hold h : holds) {
            if (h.kind != Kind.NAMESPACE || !NetNamespace.exists(h.value)) continue;
            try {
                stop(processesIn(h.value));
                NetNamespace.delete(h.value);
            } catch (IOException | RuntimeException e) {
                failures.add("namespace " + h.value + ": " + e.getMessage());
            }
        }
        for (Hold h : holds) {
            if (h.kind != Kind.PATH) continue;
            try {
                Prerequisites.deleteTree(Path.of(h.value));
            } catch (RuntimeException e) {
                failures.add("path " + h.value + ": " + e.getMessage());
            }
        }
        if (failures.isEmpty()) {
            try {
                Prerequisites.deleteTree(owner);
            } catch (RuntimeException e) {
                failures.add("owner directory " + owner + ": " + e.getMessage());
            }
        }
        // A hook and a sweep have no test to fail: they say what they could not remove, and the record stays for the next sweep.
        for (String f : failures) System.err.println("test leftovers: could not remove " + f);
    }

    /** The processes that run in namespace {@code name} ({@code ip netns pids}). */
    private static List<ProcessHandle> processesIn(String name) throws IOException {
        Process ip = new ProcessBuilder("ip", "netns", "pids", name).redirectErrorStream(true).start();
        String out = new String(ip.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
        try {
            if (!ip.waitFor(10, TimeUnit.SECONDS) || ip.exitValue() != 0) throw new IOException("ip netns pids " + name + ": " + out.strip());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted: ip netns pids " + name, e);
        }
        List<ProcessHandle> processes = new ArrayList<>();
        long me = ProcessHandle.current().pid();
        for (String pid : out.split("\\s+")) {
            if (pid.isEmpty() || Long.parseLong(pid) == me) continue;
            ProcessHandle.of(Long.parseLong(pid)).ifPresent(processes::add);
        }
        return processes;
    }

    /** SIGTERM to each, SIGKILL to those still running after {@link #GRACE_MILLIS}; waits for them to end. */
    private static void stop(List<ProcessHandle> processes) {
        if (processes.isEmpty()) return;
        processes.forEach(ProcessHandle::destroy);
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(GRACE_MILLIS);
        while (System.nanoTime() < deadline && processes.stream().anyMatch(Leftovers::running)) sleep(20);
        processes.stream().filter(Leftovers::running).forEach(ProcessHandle::destroyForcibly);
        deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (System.nanoTime() < deadline && processes.stream().anyMatch(Leftovers::running)) sleep(20);
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
