package io.dataplane.control.etcd;

import io.dataplane.core.config.ConfigException;
import io.dataplane.core.config.Lease;
import io.dataplane.core.config.NetConf;
import io.dataplane.core.control.ControlPlane;
import io.dataplane.core.control.LeaseAttrs;
import io.dataplane.core.control.PeerEvents;
import io.dataplane.core.control.PeerSet;
import io.dataplane.core.control.SubnetChoice;
import io.dataplane.core.control.SubnetKey;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Prefix;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.ClientBuilder;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.common.exception.CompactedException;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.lease.LeaseGrantResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import io.etcd.jetcd.watch.WatchResponse;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;

/**
 * The node's control plane on etcd (v3 API, jetcd), with flanneld's keys and behaviour so that our
 * nodes and flanneld nodes share one network, and sturdier than flanneld where it is known to fail.
 *
 * <pre>
 * network()   GET  &lt;prefix&gt;/config             net-conf.json; none, or one that does not check: one line, wait
 * acquire()   GET  &lt;prefix&gt;/subnets/ (prefix)   SubnetChoice: our PublicIP's lease, subnet.env's, random free
 *             LEASE GRANT 24 h; TXN if version(key) == 0 then PUT key value lease   (lost the race: choose again)
 *             renew at expiry - margin: new lease, PUT; on failure every minute
 * watch()     GET &lt;prefix&gt;/subnets/ -&gt; PeerSet.reconcile; WATCH from revision + 1
 *             compacted: list again and reconcile; watch error: resume from the last revision with backoff
 *             our key deleted or expired: take the same subnet again, one line
 * probe       every {@value #PROBE_SECONDS} s a GET: one line when etcd is lost, one when it is back (then re-list)
 * close()     stops all of it; the lease stays in etcd (a restart takes the same subnet back)
 * </pre>
 *
 * <p>Values are written as {@link Lease#toFlannelAttrs()} writes them, byte for byte flanneld's.
 * Everything after {@link #acquire} runs on one thread, "etcd-control", so the peer events come in
 * the store's order, one at a time.
 */
public final class EtcdControlPlane implements ControlPlane {
    private static final System.Logger LOG = System.getLogger(EtcdControlPlane.class.getName());
    /** Seconds between the probes that notice etcd lost and back. */
    static final int PROBE_SECONDS = 2;
    private static final Duration CALL_TIMEOUT = Duration.ofSeconds(5);
    private static final Duration RETRY_RENEW = Duration.ofMinutes(1);
    private static final long BACKOFF_MIN_MILLIS = 100;
    private static final long BACKOFF_MAX_MILLIS = 5000;

    private final EtcdOptions options;
    private final Client client;
    private final ScheduledExecutorService control;
    private final SecureRandom random = new SecureRandom();
    private final ByteSequence subnetsPrefix;

    // Confined to the control thread after acquire() returns.
    private NetConf net;
    private LeaseAttrs attrs;
    private Ipv4Prefix subnet;
    private long leaseId;
    private long expiresAtNanos;
    private ScheduledFuture<?> renewal;
    private PeerSet peers;
    private volatile Watch.Watcher watcher;
    private long nextRevision;
    private long backoffMillis = BACKOFF_MIN_MILLIS;
    private volatile boolean lost;
    private boolean renewFailing;
    private volatile String lastSaid;
    private volatile boolean closed;

    private EtcdControlPlane(EtcdOptions options, Client client) {
        this.options = options;
        this.client = client;
        this.subnetsPrefix = bytes(options.subnetsPrefix());
        this.control = Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform().name("etcd-control").daemon().unstarted(r));
    }

    /**
     * A control plane on the etcd of {@code options}. Connects lazily: an etcd that is not up yet
     * is waited for by {@link #network}.
     *
     * @throws ConfigException when a TLS file cannot be read
     */
    public static EtcdControlPlane connect(EtcdOptions options) {
        ClientBuilder b = Client.builder().endpoints(options.endpoints().toArray(java.net.URI[]::new))
                .connectTimeout(Duration.ofSeconds(3)).retryMaxDelay(BACKOFF_MAX_MILLIS).retryMaxDuration(Duration.ofSeconds(10));
        if (options.username() != null) {
            b.user(bytes(options.username())).password(bytes(options.password() == null ? "" : options.password()));
        }
        if (options.caFile() != null || options.certFile() != null) {
            try {
                b.sslContext(ssl -> {
                    if (options.caFile() != null) ssl.trustManager(options.caFile().toFile());
                    if (options.certFile() != null) ssl.keyManager(options.certFile().toFile(), options.keyFile().toFile());
                });
            } catch (javax.net.ssl.SSLException | IllegalArgumentException e) {
                throw new ConfigException(null, options.certFile() != null ? "etcd-certfile" : "etcd-cafile", "cannot use: " + e.getMessage());
            }
        }
        return new EtcdControlPlane(options, b.build());
    }

    // ---- network ----

    @Override
    public NetConf network() throws InterruptedException {
        String key = options.configKey();
        while (true) {
            checkOpen();
            try {
                GetResponse r = call(client.getKVClient().get(bytes(key)));
                backAfterWaiting();
                if (r.getKvs().isEmpty()) {
                    sayOnce("no network config at " + key + " yet (waiting); write one with: etcdctl put " + key
                            + " '{\"Network\": \"10.244.0.0/16\", \"Backend\": {\"Type\": \"vxlan\"}}'");
                } else {
                    try {
                        net = NetConf.parse(r.getKvs().get(0).getValue().getBytes(), key);
                        return net;
                    } catch (ConfigException e) {
                        sayOnce(e.getMessage() + " (waiting for a config that checks)");
                    }
                }
            } catch (IOException e) {
                storeLost(e);
            }
            Thread.sleep(1000);
        }
    }

    // ---- our lease ----

    @Override
    public Lease acquire(LeaseAttrs attrs, Ipv4Prefix previous) throws InterruptedException {
        if (net == null) throw new IllegalStateException("network() first");
        this.attrs = attrs;
        while (true) {
            checkOpen();
            try {
                Listing listing = list();
                backAfterWaiting();
                Map<Ipv4Prefix, Lease> leases = new LinkedHashMap<>();
                Set<Ipv4Prefix> taken = new HashSet<>();
                for (Map.Entry<String, byte[]> e : listing.kvs.entrySet()) {
                    Ipv4Prefix s = SubnetKey.parse(e.getKey());
                    if (s == null) continue;
                    taken.add(s);
                    try {
                        leases.put(s, Lease.fromFlannelAttrs(s, e.getValue(), e.getKey()));
                    } catch (ConfigException bad) {
                        // Taken all the same: a key that does not parse still holds its subnet.
                    }
                }
                SubnetChoice choice = SubnetChoice.choose(net, attrs.publicIp(), leases, taken, previous, random);
                for (Ipv4Prefix stale : choice.stale()) {
                    call(client.getKVClient().delete(bytes(keyOf(stale))));
                    say("deleted our lease of " + stale + ": it does not fit " + options.configKey() + " any more");
                }
                if (choice.subnet() == null) {
                    sayOnce("no free subnet between SubnetMin " + net.subnetMin() + " and SubnetMax " + net.subnetMax() + " (waiting)");
                    Thread.sleep(10_000);
                    continue;
                }
                if (choice.existing() != null) {
                    write(choice.subnet(), false);
                } else if (!write(choice.subnet(), true)) {
                    say("subnet " + choice.subnet() + " was taken by another node meanwhile; choosing another");
                    continue;
                }
                subnet = choice.subnet();
                scheduleRenewal();
                return attrs.on(subnet);
            } catch (IOException e) {
                storeLost(e);
                Thread.sleep(1000);
            }
        }
    }

    @Override
    public void publish(LeaseAttrs attrs) throws IOException, InterruptedException {
        submit(() -> {
            this.attrs = attrs;
            write(subnet, false);
            scheduleRenewal();
            return null;
        });
    }

    /**
     * Writes our lease of {@code s} on a new etcd lease: only if the key does not exist when
     * {@code create}, else over whatever is there. False when {@code create} lost the race.
     */
    private boolean write(Ipv4Prefix s, boolean create) throws IOException {
        Lease lease = attrs.on(s);
        ByteSequence key = bytes(keyOf(s));
        ByteSequence value = bytes(lease.toFlannelAttrs());
        LeaseGrantResponse grant = call(client.getLeaseClient().grant(options.leaseTtl().toSeconds()));
        PutOption put = PutOption.builder().withLeaseId(grant.getID()).build();
        boolean written;
        if (create) {
            written = call(client.getKVClient().txn().If(new Cmp(key, Cmp.Op.EQUAL, CmpTarget.version(0)))
                    .Then(Op.put(key, value, put)).commit()).isSucceeded();
        } else {
            call(client.getKVClient().put(key, value, put));
            written = true;
        }
        if (!written) {
            revokeQuietly(grant.getID());
            return false;
        }
        long previousLease = leaseId;
        leaseId = grant.getID();
        expiresAtNanos = System.nanoTime() + TimeUnit.SECONDS.toNanos(grant.getTTL());
        // The key moved to the new lease; the old one holds nothing any more.
        if (previousLease != 0 && previousLease != leaseId) revokeQuietly(previousLease);
        return true;
    }

    private void revokeQuietly(long id) {
        client.getLeaseClient().revoke(id).exceptionally(e -> null);
    }

    private void scheduleRenewal() {
        if (renewal != null) renewal.cancel(false);
        long delay = Math.max(0, expiresAtNanos - System.nanoTime() - options.renewMargin().toNanos());
        renewal = control.schedule(this::renew, delay, TimeUnit.NANOSECONDS);
    }

    private void renew() {
        if (closed) return;
        try {
            write(subnet, false);
            LOG.log(Level.INFO, () -> "renewed the lease of " + subnet + " (etcd lease " + Long.toHexString(leaseId) + ")");
            renewFailing = false;
            scheduleRenewal();
        } catch (IOException | RuntimeException e) {
            // One line for the first failure; with etcd lost, the lost line says it already.
            if (!renewFailing && !lost) say("renewing the lease of " + subnet + " failed (" + e.getMessage() + "); retrying every minute");
            renewFailing = true;
            renewal = control.schedule(this::renew, RETRY_RENEW.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    /** Our key was deleted or expired: take the same subnet again (no other node may have taken it meanwhile). */
    private void retake() {
        if (closed) return;
        try {
            if (write(subnet, true)) {
                say("our lease of " + subnet + " was deleted from etcd; taken again");
                scheduleRenewal();
            } else {
                sayOnce("our lease of " + subnet + " was deleted and another node has written " + keyOf(subnet)
                        + "; keeping our subnet and trying again every minute");
                later(this::retakeIfGone, RETRY_RENEW.toMillis());
            }
        } catch (IOException e) {
            later(this::retake, backoff());
        }
    }

    private void retakeIfGone() {
        try {
            if (call(client.getKVClient().get(bytes(keyOf(subnet)))).getKvs().isEmpty()) retake();
            else later(this::retakeIfGone, RETRY_RENEW.toMillis());
        } catch (IOException e) {
            later(this::retakeIfGone, RETRY_RENEW.toMillis());
        }
    }

    // ---- peers ----

    @Override
    public void watch(PeerEvents events) throws IOException, InterruptedException {
        if (subnet == null) throw new IllegalStateException("acquire() first");
        submit(() -> {
            peers = new PeerSet(attrs.backendType(), subnet, guarded(events), this::say);
            relist();
            control.scheduleWithFixedDelay(() -> guarded(this::probe), PROBE_SECONDS, PROBE_SECONDS, TimeUnit.SECONDS);
            return null;
        });
    }

    /** Lists the subnets, reconciles the peers with them, and watches from the listing's revision + 1. */
    private void relist() throws IOException {
        Listing listing = list();
        Map<String, byte[]> others = new LinkedHashMap<>(listing.kvs);
        byte[] ours = others.remove(keyOf(subnet));
        peers.reconcile(others);
        if (ours == null) retake();
        startWatch(listing.revision + 1);
    }

    private void startWatch(long revision) {
        if (watcher != null) watcher.close();
        nextRevision = revision;
        WatchOption option = WatchOption.builder().isPrefix(true).withRevision(revision).build();
        Watch.Watcher w = client.getWatchClient().watch(subnetsPrefix, option, Watch.listener(
                r -> later(() -> onWatch(r), 0),
                e -> later(() -> onWatchError(e), 0),
                () -> later(() -> onWatchError(null), 0)));
        watcher = w;
    }

    private void onWatch(WatchResponse r) {
        if (closed) return;
        backoffMillis = BACKOFF_MIN_MILLIS;
        String ours = keyOf(subnet);
        for (WatchEvent e : r.getEvents()) {
            KeyValue kv = e.getKeyValue();
            String key = kv.getKey().toString(StandardCharsets.UTF_8);
            nextRevision = Math.max(nextRevision, kv.getModRevision() + 1);
            boolean put = e.getEventType() == WatchEvent.EventType.PUT;
            if (key.equals(ours)) {
                if (!put) retake();
                else if (!kv.getValue().toString(StandardCharsets.UTF_8).equals(attrs.on(subnet).toFlannelAttrs())) {
                    sayOnce("another writer put " + kv.getValue().toString(StandardCharsets.UTF_8) + " under our key " + key
                            + "; this node keeps its subnet (two nodes on one subnet: check the other's subnet.env)");
                }
                continue;
            }
            if (put) peers.put(key, kv.getValue().getBytes());
            else if (e.getEventType() == WatchEvent.EventType.DELETE) peers.delete(key);
        }
        if (r.getHeader().getRevision() != 0) nextRevision = Math.max(nextRevision, r.getHeader().getRevision() + 1);
    }

    private void onWatchError(Throwable e) {
        if (closed) return;
        Throwable cause = e;
        while (cause != null && !(cause instanceof CompactedException) && cause.getCause() != cause) cause = cause.getCause();
        if (cause instanceof CompactedException c) {
            say("the watch of " + options.subnetsPrefix() + " fell behind a compaction (revision " + c.getCompactedRevision()
                    + "); listing again and reconciling");
            tryRelist();
            return;
        }
        LOG.log(Level.DEBUG, () -> "watch ended (" + e + "); resuming from revision " + nextRevision);
        later(() -> startWatch(nextRevision), backoff());
    }

    private void tryRelist() {
        if (closed) return;
        try {
            relist();
            backoffMillis = BACKOFF_MIN_MILLIS;
        } catch (IOException | RuntimeException e) {
            later(this::tryRelist, backoff());
        }
    }

    /** Peer events that cannot stop the control thread: a lease the node refuses is said, and the rest go on. */
    private PeerEvents guarded(PeerEvents events) {
        return PeerEvents.of(lease -> {
            try {
                events.put(lease);
            } catch (RuntimeException e) {
                say("the node refused the lease of " + lease.subnet() + " at " + Ipv4Address.toString(lease.publicIp()) + ": " + e.getMessage());
            }
        }, s -> {
            try {
                events.removed(s);
            } catch (RuntimeException e) {
                say("removing the peer " + s + " failed: " + e.getMessage());
            }
        });
    }

    // ---- etcd lost and back ----

    private void probe() {
        if (closed) return;
        try {
            call(client.getKVClient().get(bytes(options.configKey()), GetOption.builder().withCountOnly(true).build()));
            if (lost) {
                lost = false;
                say("etcd is back; listing the subnets again");
                tryRelist();
            }
        } catch (IOException e) {
            storeLost(e);
        }
    }

    private void storeLost(IOException e) {
        if (lost) return;
        lost = true;
        String peersNow = peers == null ? "" : "; forwarding goes on with the " + peers.known().size() + " peers known";
        say("lost etcd at " + options.endpoints().stream().map(Object::toString).collect(Collectors.joining(",")) + " (" + e.getMessage()
                + ")" + peersNow + ", retrying");
    }

    private void backAfterWaiting() {
        if (lost) {
            lost = false;
            say("etcd is back");
        }
    }

    // ---- state for tests and stats ----

    /** Our subnet, or null before {@link #acquire}. */
    public Ipv4Prefix subnet() {
        return subnet;
    }

    /** The etcd lease our key is attached to now (changes with every renewal). */
    public long leaseId() {
        return onControl(() -> leaseId);
    }

    /** When our lease in etcd expires unless renewed, or null before {@link #acquire}. */
    public java.time.Instant leaseExpiry() {
        return onControl(() -> leaseId == 0 ? null
                : java.time.Instant.now().plusNanos(Math.max(0, expiresAtNanos - System.nanoTime())));
    }

    /** The peers known now. */
    public int peerCount() {
        return onControl(() -> peers == null ? 0 : peers.known().size());
    }

    /** Keys under subnets/ skipped so far: foreign keys and values that do not parse. */
    public long unparsable() {
        return onControl(() -> peers == null ? 0 : peers.unparsable());
    }

    /** Leases of another backend type ignored so far. */
    public long otherBackend() {
        return onControl(() -> peers == null ? 0 : peers.otherBackend());
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        control.shutdownNow();
        try {
            control.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        Watch.Watcher w = watcher;
        if (w != null) w.close();
        client.close();
    }

    // ---- plumbing ----

    private record Listing(Map<String, byte[]> kvs, long revision) {}

    private Listing list() throws IOException {
        GetResponse r = call(client.getKVClient().get(subnetsPrefix, GetOption.builder().isPrefix(true).build()));
        Map<String, byte[]> kvs = new LinkedHashMap<>();
        for (KeyValue kv : r.getKvs()) kvs.put(kv.getKey().toString(StandardCharsets.UTF_8), kv.getValue().getBytes());
        return new Listing(kvs, r.getHeader().getRevision());
    }

    private String keyOf(Ipv4Prefix s) {
        return options.subnetsPrefix() + SubnetKey.of(s);
    }

    /** Runs {@code task} on the control thread after {@code millis}, unless the plane is closed by then. */
    private void later(Runnable task, long millis) {
        if (closed) return;
        try {
            control.schedule(() -> {
                if (!closed) guarded(task);
            }, millis, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            // closed meanwhile
        }
    }

    /** Runs {@code task}; a bug in it is logged and the control thread goes on with the next task. */
    private void guarded(Runnable task) {
        try {
            task.run();
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "etcd control plane: " + e, e);
        }
    }

    private long backoff() {
        long b = backoffMillis;
        backoffMillis = Math.min(backoffMillis * 2, BACKOFF_MAX_MILLIS);
        return b;
    }

    private void say(String line) {
        lastSaid = line;
        options.say().accept(line);
    }

    /** Says {@code line} unless it was the last thing said: a wait says what it waits for once. */
    private void sayOnce(String line) {
        if (!line.equals(lastSaid)) say(line);
    }

    private void checkOpen() {
        if (closed) throw new IllegalStateException("the etcd control plane is closed");
    }

    @FunctionalInterface
    private interface Task<T> {
        T run() throws IOException;
    }

    private <T> T submit(Task<T> task) throws IOException, InterruptedException {
        try {
            return control.submit(task::run).get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IOException io) throw io;
            if (e.getCause() instanceof RuntimeException re) throw re;
            throw new IOException(e.getCause());
        }
    }

    private <T> T onControl(java.util.concurrent.Callable<T> read) {
        try {
            return control.submit(read).get(CALL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Waits for an etcd call, at most {@link #CALL_TIMEOUT}; every failure as an IOException saying why in a few words. */
    private static <T> T call(CompletableFuture<T> future) throws IOException {
        try {
            return future.get(CALL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            future.cancel(true);
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        } catch (TimeoutException e) {
            future.cancel(true);
            throw new IOException("no answer within " + CALL_TIMEOUT.toSeconds() + " s", e);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            String why = c.getMessage() != null ? c.getMessage() : c.toString();
            throw new IOException(why.strip().replaceAll("\\s*\\R\\s*", "; "), c);
        }
    }

    private static ByteSequence bytes(String s) {
        return ByteSequence.from(s, StandardCharsets.UTF_8);
    }
}
