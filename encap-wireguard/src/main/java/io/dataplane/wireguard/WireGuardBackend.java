package io.dataplane.wireguard;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.config.BackendConf;
import io.dataplane.core.config.BackendType;
import io.dataplane.core.config.ConfigException;
import io.dataplane.core.config.Lease;
import io.dataplane.core.config.WireguardLeaseData;
import io.dataplane.core.spi.PeerBackend;
import io.dataplane.core.spi.BackendContext;
import io.dataplane.core.spi.Peers;
import io.dataplane.core.spi.Transport;
import io.dataplane.core.stats.Counters;
import io.dataplane.core.stats.DropReason;
import io.dataplane.core.table.RouteTable;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Prefix;
import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * flannel's {@code wireguard} backend in user space: a {@link WireGuardDevice} on a UDP socket,
 * peers from leases, and a timer thread.
 *
 * <pre>
 *  our lease   {"Subnet": ours, "PublicIP": ours, "BackendType": "wireguard",
 *               "BackendData": {"PublicKey": our public key, "Port": ListenPort}}
 *  peer lease  -&gt; peer PublicKey, endpoint PublicIP:Port (Port 0 or missing: our ListenPort, as
 *                 flanneld assumes), allowed IPs = the lease's subnet, PSK and
 *                 PersistentKeepaliveInterval from net-conf.json
 *  routes()    the allowed-IPs table: peer subnet -&gt; peer id, the next hop the device's encap takes
 *  transport   UDP on PublicIP:ListenPort (51820 by default)
 *  timer       thread "wg-timer-TUN": device.tick() at the deadline it returns, at least every 100 ms
 * </pre>
 *
 * <p><b>Keys.</b> The private key lives in {@code stateDir/wgkey} ({@link KeyFile}: created 0600 with a
 * fresh key when missing, so the node keeps its identity across restarts), unless the options hand
 * one in. Only the public key is ever printed: {@link #publicKey()}, the lease, logs; {@link #toString}
 * and every message name no secret (neither the private key nor the PSK).
 *
 * <p><b>Leases</b> map to peers as flanneld's wireguard backend programs them: a renewed lease (same
 * subnet, same key) updates the peer in place and keeps its session (endpoint, keepalive); a lease
 * for a subnet with another key replaces that peer; a key that comes back with another subnet (its node
 * took a new lease) moves there; and a peer at the same endpoint with another key (its node restarted
 * with a new key) is removed, as flanneld's cleanupEndpointPeers does. Leases this node refuses
 * throw {@link IllegalArgumentException} naming the field and value: another backend type, our own
 * key or subnet, a subnet overlapping ours or another peer's, one outside the network.
 *
 * <p><b>Threads.</b> The pipeline's TUN reader calls encap, the transport's receive thread decap
 * (the threads are drawn in {@code Pipeline}), the timer thread tick; the device's own datagrams (handshakes, keepalives, packets that waited for a session)
 * go to {@link Transport#send}, which is thread-safe. Peers change on the control plane's thread.
 * {@link #close} stops the timer, closes the socket and releases the packets staged for handshakes.
 */
public final class WireGuardBackend extends PeerBackend<NoisePublicKey> {
    /** The private key's file name in the state directory, as flanneld names it. */
    public static final String KEY_FILE = "wgkey";
    /** Longest wait of the timer thread between two ticks. */
    static final long MAX_TICK_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    /** Shortest wait: a deadline that is already due is fired by the next tick, not in a spin. */
    static final long MIN_TICK_NANOS = TimeUnit.MILLISECONDS.toNanos(1);

    private static final Logger LOG = System.getLogger(WireGuardBackend.class.getName());
    private static final ThreadLocal<PacketBuffer[]> ONE = ThreadLocal.withInitial(() -> new PacketBuffer[1]);

    private final BackendContext context;
    private final int listenPort;
    private final PresharedKey presharedKey;
    private final int keepaliveSeconds;
    private final WireGuardDevice device;
    private final Thread timer;
    private volatile boolean running = true;

    private WireGuardBackend(BackendContext context, WireGuardConfig config, PresharedKey presharedKey, Transport transport) {
        super(Peers.<NoisePublicKey>of(BackendType.WIREGUARD, context).allowingOurPublicIp(), transport);
        BackendConf conf = context.netConf().backend();
        this.context = context;
        this.listenPort = transport.localPort();
        this.presharedKey = presharedKey;
        this.keepaliveSeconds = conf.persistentKeepaliveInterval();
        this.device = new WireGuardDevice(config, new RouteTable(), context.pool(), this::send);
        this.timer = Thread.ofPlatform().name("wg-timer-" + context.tunName()).daemon().unstarted(this::tickLoop);
    }

    /** {@link #open(BackendContext, WireGuardOptions)} with {@link WireGuardOptions#defaults()}. */
    public static WireGuardBackend open(BackendContext context) throws IOException {
        return open(context, WireGuardOptions.defaults());
    }

    /**
     * Opens the WireGuard interface of this node: its key (from the options, else {@code
     * stateDir/wgkey}, created when missing), a device with the TUN's MTU, a UDP socket on our public
     * IP and ListenPort, and the timer thread.
     *
     * @throws ConfigException when the backend configuration is not wireguard
     * @throws IllegalArgumentException when the pool does not fit (headroom below 16 bytes, buffers
     *     without room for a TUN-sized packet plus padding and tag), naming the values
     * @throws IOException when the key file cannot be read or created, or the socket cannot be bound
     */
    public static WireGuardBackend open(BackendContext context, WireGuardOptions options) throws IOException {
        BackendConf conf = context.netConf().backend();
        if (conf.type() != BackendType.WIREGUARD) throw new ConfigException(null, "Backend.Type", "not wireguard: " + conf.type());
        checkPool(context.pool(), context.tunMtu());
        NoisePrivateKey key = options.privateKey() != null ? options.privateKey()
                : KeyFile.loadOrCreate(context.stateDir().resolve(KEY_FILE));
        PresharedKey psk = conf.psk() == null ? PresharedKey.NONE : PresharedKey.parse(conf.psk());
        WireGuardConfig config = new WireGuardConfig(key, context.tunMtu(), options.maxPeers(), 128, options.handshakeLoadThreshold(),
                options.timings(), options.clock(), options.transportCipher());
        Transport transport = options.transports().open(context.publicIp(), conf.listenPort(), context.pool());
        WireGuardBackend backend;
        try {
            backend = new WireGuardBackend(context, config, psk, transport);
        } catch (RuntimeException e) {
            transport.close();
            throw e;
        }
        backend.timer.start();
        LOG.log(Level.INFO, () -> "wireguard " + context.tunName() + ": public key " + key.publicKey() + ", listening on "
                + Ipv4Address.toString(context.publicIp()) + ":" + backend.listenPort + ", " + options.transportCipher() + " cipher");
        return backend;
    }

    private static void checkPool(PacketPool pool, int tunMtu) {
        Peers.checkPool(pool, "WireGuard", MessageType.TRANSPORT_HEADER_LEN, tunMtu, MessageType.PADDING_MULTIPLE - 1 + MessageType.TAG_LEN,
                " (padding and tag)");
    }

    // ---- Backend ----

    /** Our lease: subnet, public IP, and as BackendData our public key and listen port. */
    @Override
    public Lease localLease() {
        return Lease.wireguard(context.subnet(), context.publicIp(), new WireguardLeaseData(publicKey().toBase64(), listenPort));
    }

    /** Our public key, as {@code wg pubkey} prints it (base64). */
    public NoisePublicKey publicKey() {
        return device.publicKey();
    }

    /** The UDP port we listen on. */
    public int listenPort() {
        return listenPort;
    }

    /** The WireGuard device: peers, sessions, handshake state. */
    @Override
    public WireGuardDevice encapsulation() {
        return device;
    }

    /** The allowed-IPs table: peer subnet -&gt; peer id. */
    @Override
    public RouteTable routes() {
        return device.allowedIps();
    }

    /**
     * The device's own drop counters (handshake messages answered with a cookie reply, packets that
     * waited for a handshake in vain, datagrams the transport's ring refused); the pipeline counts
     * the rest.
     */
    @Override
    public List<Counters> counters() {
        return List.of(device.counters());
    }

    /** Adds the peer of a lease, or updates it (see the class comment for how leases map to peers). */
    @Override
    protected void add(Lease lease) {
        peers.checkType(lease);
        Ipv4Prefix subnet = lease.subnet();
        WireguardLeaseData data = lease.wireguard();
        NoisePublicKey key = NoisePublicKey.parse(data.publicKey());
        if (key.equals(publicKey())) {
            throw new IllegalArgumentException("lease with our own public key: BackendData.PublicKey=" + key + " (lease of " + subnet + ")");
        }
        Ipv4Prefix movedFrom = subnetOf(key);
        peers.check(lease, movedFrom);
        int port = data.port() != 0 ? data.port() : listenPort;

        Peers.Peer<NoisePublicKey> replaced = peers.get(subnet);
        if (replaced != null && !replaced.state().equals(key)) forget(subnet, replaced.state());
        if (movedFrom != null && !movedFrom.equals(subnet)) peers.remove(movedFrom);
        for (Peers.Peer<NoisePublicKey> other : new ArrayList<>(peers.all())) {
            if (!other.state().equals(key) && other.publicIp() == lease.publicIp() && portOf(other.lease()) == port) {
                forget(other.subnet(), other.state());
            }
        }
        PeerConfig peer = new PeerConfig(key, presharedKey, lease.publicIp(), port, List.of(subnet), keepaliveSeconds);
        device.updatePeer(peer);
        peers.put(lease, key);
        LOG.log(Level.DEBUG, () -> "wireguard peer " + key + " for " + subnet + " at " + Ipv4Address.toString(lease.publicIp()) + ":" + port);
    }

    /** Removes the peer of the lease: its routes, sessions and staged packets. */
    @Override
    protected void remove(Peers.Peer<NoisePublicKey> peer) {
        device.removePeer(peer.state());
        LOG.log(Level.DEBUG, () -> "wireguard peer " + peer.state() + " for " + peer.subnet() + " removed");
    }

    /** Stops the timer thread, closes the socket, drops every peer (releasing staged packets). */
    @Override
    protected void release() {
        running = false;
        LockSupport.unpark(timer);
        boolean interrupted = false;
        while (timer.isAlive()) {
            try {
                timer.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        super.release();
        device.close();
        if (interrupted) Thread.currentThread().interrupt();
    }

    /** Subnet, public IP, port and public key; never a secret. */
    @Override
    public String toString() {
        return "WireGuardBackend[" + context.subnet() + " at " + Ipv4Address.toString(context.publicIp()) + ":" + listenPort
                + " publicKey=" + publicKey() + "]";
    }

    // ---- internals ----

    private void forget(Ipv4Prefix subnet, NoisePublicKey key) {
        peers.remove(subnet);
        device.removePeer(key);
    }

    private Ipv4Prefix subnetOf(NoisePublicKey key) {
        for (Peers.Peer<NoisePublicKey> p : peers.all()) {
            if (p.state().equals(key)) return p.subnet();
        }
        return null;
    }

    private int portOf(Lease lease) {
        int port = lease.wireguard().port();
        return port != 0 ? port : listenPort;
    }

    /** The device's output: one datagram into the transport's send ring (handshakes, keepalives, staged packets). */
    private void send(PacketBuffer p) {
        PacketBuffer[] one = ONE.get();
        one[0] = p;
        if (transport().send(one, 1) == 0) device.countDrop(DropReason.RING_FULL);
        one[0] = null;
    }

    private void tickLoop() {
        while (running) {
            long wait;
            try {
                wait = device.tick();
            } catch (RuntimeException e) {
                // A bug, not bad input: keep the timers running and say what happened (no key material in it).
                LOG.log(Level.ERROR, "wireguard timer of " + context.tunName() + " failed: " + e, e);
                wait = MAX_TICK_NANOS;
            }
            LockSupport.parkNanos(Math.clamp(wait, MIN_TICK_NANOS, MAX_TICK_NANOS));
        }
    }
}
