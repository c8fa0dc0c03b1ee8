package io.dataplane.node.cli;

import io.dataplane.core.config.ConfigException;
import io.dataplane.core.config.Lease;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Prefix;
import io.dataplane.node.OverlayNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.StringJoiner;
import java.util.concurrent.TimeUnit;

/**
 * Keeps a node's peers equal to the leases in its {@code peers.json} while it runs: peers added,
 * changed or removed in the file are added, updated or removed on the node, without a restart.
 *
 * <p>How a change is noticed: a {@link WatchService} on the file's directory wakes the watcher
 * for any event on the file's name (editors that write a new file and rename it over the old one
 * included), and every second the watcher compares the file's modification time, size and inode
 * with the last ones it read, which also catches what directory events miss (a symlink swapped
 * under the name, as Kubernetes does for a mounted ConfigMap). After an event the watcher waits
 * {@link #SETTLE_MILLIS} for the writer to finish before reading.
 *
 * <p>A file that does not read or check (bad JSON, a malformed MAC, a subnet outside the
 * Network, the file gone) changes nothing: one line names the file, the field and the value, the
 * peers in use stay, and the next change of the file is read again.
 */
final class PeersWatch implements AutoCloseable {
    /** Wait after a change event before reading, so that a writer in the middle of its write is done. */
    static final long SETTLE_MILLIS = 100;
    private static final long POLL_MILLIS = 1000;
    private static final int MAX_SETTLES = 10;

    /** Reads and checks the peers file (the node's config directory checks it against net-conf.json and subnet.env). */
    @FunctionalInterface
    interface Reader {
        /** The leases in {@code file}; throws {@link ConfigException} naming the file, field and value. */
        List<Lease> read(Path file);
    }

    /** What tells a changed file from the one read last: its modification time, size and inode; null when missing. */
    private record Seen(FileTime modified, long size, Object key) {
        static Seen of(Path file) {
            try {
                BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
                return new Seen(a.lastModifiedTime(), a.size(), a.fileKey());
            } catch (NoSuchFileException e) {
                return null;
            } catch (IOException e) {
                return new Seen(FileTime.fromMillis(0), -1, e.toString());
            }
        }
    }

    private final Path file;
    private final Reader reader;
    private final OverlayNode node;
    private final PrintWriter out;
    private final PrintWriter err;
    private final String prefix;
    private List<Lease> applied = List.of();
    // Matches no file: the watcher's first look reads the file again, in case it changed between the
    // start-up read and the watch (a no-op when it did not).
    private Seen seen = new Seen(FileTime.fromMillis(0), -1, "not read by the watcher yet");
    private WatchService watch;
    private Thread thread;
    private volatile boolean closed;

    /**
     * A watcher of {@code file} for {@code node}; nothing applied yet.
     *
     * @param prefix what the lines it prints start with ({@code "dataplane node: "})
     */
    PeersWatch(Path file, Reader reader, OverlayNode node, PrintWriter out, PrintWriter err, String prefix) {
        this.file = file;
        this.reader = reader;
        this.node = node;
        this.out = out;
        this.err = err;
        this.prefix = prefix;
    }

    /**
     * Applies the leases of the file as read at start-up, before watching: a lease the node
     * refuses throws (the node does not start with a peers.json it cannot use).
     */
    synchronized void applyInitial(List<Lease> leases) {
        apply(leases);
    }

    /** Starts watching on a thread of its own. */
    synchronized void start() throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        watch = dir.getFileSystem().newWatchService();
        dir.register(watch, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_MODIFY, StandardWatchEventKinds.ENTRY_DELETE);
        thread = Thread.ofPlatform().name("peers-watch").daemon().start(this::loop);
    }

    private void loop() {
        try {
            while (!closed) {
                WatchKey key = watch.poll(POLL_MILLIS, TimeUnit.MILLISECONDS);
                boolean event = false;
                for (int settle = 0; key != null; settle++) {
                    event |= concernsFile(key);
                    key.reset();
                    // Collect the rest of a burst (truncate, write, close; or write and rename) before
                    // reading; at most a second of it, so a busy neighbour file cannot hold us off.
                    key = event && settle < MAX_SETTLES ? watch.poll(SETTLE_MILLIS, TimeUnit.MILLISECONDS) : null;
                }
                if (closed) return;
                Seen now = Seen.of(file);
                synchronized (this) {
                    if (event || !Objects.equals(now, seen)) {
                        seen = now;
                        reload();
                    }
                }
            }
        } catch (InterruptedException | ClosedWatchServiceException e) {
            // close(): the node is stopping.
        }
    }

    private boolean concernsFile(WatchKey key) {
        boolean concerns = false;
        Path name = file.getFileName();
        for (WatchEvent<?> e : key.pollEvents()) {
            if (e.kind() == StandardWatchEventKinds.OVERFLOW || name.equals(e.context())) concerns = true;
        }
        return concerns;
    }

    private void reload() {
        try {
            apply(reader.read(file));
        } catch (ConfigException e) {
            if (closed) return;
            err.println(prefix + e.getMessage() + "; keeping the " + applied.size() + " peer" + (applied.size() == 1 ? "" : "s") + " in use");
        } catch (IllegalStateException e) {
            if (!closed) throw e; // the node closed under us: stopping anyway
        }
    }

    /**
     * Makes the node's peers {@code next}: removes the subnets gone, adds or updates the rest, and
     * prints what changed. When the node refuses a lease, puts the previous peers back and throws
     * naming the lease's index in the file.
     */
    private void apply(List<Lease> next) {
        Map<Ipv4Prefix, Lease> before = bySubnet(applied);
        Map<Ipv4Prefix, Lease> after = bySubnet(next);
        List<Ipv4Prefix> removed = new ArrayList<>();
        for (Ipv4Prefix s : before.keySet()) if (!after.containsKey(s)) removed.add(s);
        List<Lease> added = new ArrayList<>();
        List<Lease> changed = new ArrayList<>();
        for (Lease l : next) {
            Lease old = before.get(l.subnet());
            if (old == null) added.add(l);
            else if (!old.equals(l)) changed.add(l);
        }
        if (removed.isEmpty() && added.isEmpty() && changed.isEmpty()) {
            applied = List.copyOf(next);
            return;
        }
        // Removals first: a new lease may take over part of a removed subnet.
        for (Ipv4Prefix s : removed) node.removePeer(s);
        Lease adding = null;
        try {
            for (Lease l : added) node.addPeer(adding = l);
            for (Lease l : changed) node.addPeer(adding = l);
        } catch (IllegalArgumentException e) {
            restore(before, after);
            throw new ConfigException(file.toString(), "[" + next.indexOf(adding) + "]", "refused by the node: " + e.getMessage());
        }
        applied = List.copyOf(next);
        StringJoiner what = new StringJoiner(", ");
        for (Lease l : added) what.add("added " + describe(l));
        for (Lease l : changed) what.add("updated " + describe(l));
        for (Ipv4Prefix s : removed) what.add("removed " + s);
        out.println("peers: " + what + " (" + next.size() + " peer" + (next.size() == 1 ? "" : "s") + " from " + file + ")");
    }

    // Best effort: the node refused one lease; make its peers what they were before the file changed.
    private void restore(Map<Ipv4Prefix, Lease> before, Map<Ipv4Prefix, Lease> after) {
        for (Ipv4Prefix s : after.keySet()) if (!before.containsKey(s)) node.removePeer(s);
        for (Lease l : before.values()) {
            try {
                node.addPeer(l);
            } catch (IllegalArgumentException e) {
                err.println(prefix + "could not restore peer " + describe(l) + ": " + e.getMessage());
            }
        }
    }

    private static Map<Ipv4Prefix, Lease> bySubnet(List<Lease> leases) {
        Map<Ipv4Prefix, Lease> m = new LinkedHashMap<>();
        for (Lease l : leases) m.put(l.subnet(), l);
        return m;
    }

    /** {@code 10.244.2.0/24 at 192.0.2.2}. */
    static String describe(Lease lease) {
        return lease.subnet() + " at " + Ipv4Address.toString(lease.publicIp());
    }

    /** Stops watching; waits briefly for the watcher to finish a change it is applying. */
    @Override
    public void close() {
        closed = true;
        Thread t;
        synchronized (this) {
            t = thread;
            if (watch != null) {
                try {
                    watch.close();
                } catch (IOException e) {
                    // Closing a watch service only releases the inotify descriptor; nothing to report.
                }
            }
        }
        if (t != null) {
            t.interrupt();
            try {
                t.join(500);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
