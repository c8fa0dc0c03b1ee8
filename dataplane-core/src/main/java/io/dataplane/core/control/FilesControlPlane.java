package io.dataplane.core.control;

import io.dataplane.core.config.ConfigException;
import io.dataplane.core.config.Lease;
import io.dataplane.core.config.NetConf;
import io.dataplane.core.config.NodeFiles;
import io.dataplane.core.wire.Ipv4Prefix;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The control plane of a host without a store: flannel's files in one directory, written by a
 * person or a tool ({@code net-conf.json}, {@code subnet.env}, {@code peers.json}; see
 * {@link NodeFiles}). The lease is subnet.env's, published nowhere (the caller prints it for the
 * other hosts' peers.json); peers.json is polled and its changes become peer events. A peers.json
 * that does not check is said in one line and changes nothing.
 */
public final class FilesControlPlane implements ControlPlane {
    /** How often peers.json is looked at. */
    static final long POLL_MILLIS = 500;

    private final Path dir;
    private final Consumer<String> say;
    private final ScheduledExecutorService poller =
            Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform().name("peers-poll").daemon().unstarted(r));
    private NodeFiles files;
    private Map<Ipv4Prefix, Lease> applied = Map.of();
    private Object seen;
    private String lastSaid;

    /**
     * A control plane on the files in {@code dir}; one-line messages (a peers.json that does not
     * check) to {@code say}.
     */
    public FilesControlPlane(Path dir, Consumer<String> say) {
        this.dir = Objects.requireNonNull(dir, "dir");
        this.say = Objects.requireNonNull(say, "say");
    }

    /** The three files, read and checked against each other; throws {@link ConfigException}. */
    @Override
    public NetConf network() {
        files = NodeFiles.read(dir);
        return files.netConf();
    }

    /** subnet.env's subnet with {@code attrs}; {@code previous} is not consulted (subnet.env is the lease). */
    @Override
    public Lease acquire(LeaseAttrs attrs, Ipv4Prefix previous) {
        if (files == null) throw new IllegalStateException("network() first");
        return attrs.on(files.subnetEnv().subnet());
    }

    /** Nothing to write: the other hosts' peers.json are theirs. */
    @Override
    public void publish(LeaseAttrs attrs) {
        // A file-configured network has no store to publish into.
    }

    /** The peers of peers.json as added now, then its changes as the file changes. */
    @Override
    public void watch(PeerEvents events) {
        if (files == null) throw new IllegalStateException("network() first");
        synchronized (this) {
            seen = stamp();
            apply(files.peers(), events);
        }
        poller.scheduleWithFixedDelay(() -> poll(events), POLL_MILLIS, POLL_MILLIS, TimeUnit.MILLISECONDS);
    }

    private synchronized void poll(PeerEvents events) {
        Object now = stamp();
        if (Objects.equals(now, seen)) return;
        seen = now;
        Path file = dir.resolve(Lease.PEERS_FILE_NAME);
        try {
            apply(files.withPeers(file).peers(), events);
            lastSaid = null;
        } catch (ConfigException e) {
            String line = e.getMessage() + "; keeping the " + applied.size() + " peers in use";
            if (!line.equals(lastSaid)) say.accept(line);
            lastSaid = line;
        } catch (RuntimeException e) {
            say.accept("peers from " + file + ": " + e.getMessage());
        }
    }

    private void apply(List<Lease> leases, PeerEvents events) {
        Map<Ipv4Prefix, Lease> next = new LinkedHashMap<>();
        for (Lease l : leases) next.put(l.subnet(), l);
        for (Ipv4Prefix s : applied.keySet()) if (!next.containsKey(s)) events.removed(s);
        for (Lease l : next.values()) if (!l.equals(applied.get(l.subnet()))) events.put(l);
        applied = next;
    }

    /** What tells one version of peers.json from another: its inode, size and modification time. */
    private Object stamp() {
        try {
            BasicFileAttributes a = Files.readAttributes(dir.resolve(Lease.PEERS_FILE_NAME), BasicFileAttributes.class);
            return List.of(String.valueOf(a.fileKey()), a.size(), a.lastModifiedTime().toMillis());
        } catch (IOException e) {
            return e.getClass().getSimpleName();
        }
    }

    @Override
    public void close() {
        poller.shutdownNow();
    }
}
