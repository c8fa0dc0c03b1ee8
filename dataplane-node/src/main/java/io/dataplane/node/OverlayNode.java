package io.dataplane.node;

import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.config.BackendConf;
import io.dataplane.core.config.BackendType;
import io.dataplane.core.config.ConfigException;
import io.dataplane.core.config.Lease;
import io.dataplane.core.pipeline.Pipeline;
import io.dataplane.core.spi.Backend;
import io.dataplane.core.spi.BackendContext;
import io.dataplane.core.spi.BackendProvider;
import io.dataplane.core.stats.Counters;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Prefix;
import io.dataplane.tun.ErrnoException;
import io.dataplane.tun.TunDevice;
import io.dataplane.tun.TunOffload;
import io.dataplane.tun.TunOptions;
import io.dataplane.tun.netlink.Link;
import io.dataplane.tun.netlink.Netlink;
import io.dataplane.tun.netlink.Route;
import io.dataplane.tun.socket.SocketTransport;
import io.dataplane.tun.sys.Errno;
import io.dataplane.tun.sys.PageMemory;
import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

/**
 * One node of a flannel-style overlay in user space: the library's entry point for an agent that
 * owns the control plane (leases) and wants the dataplane.
 *
 * <pre>{@code
 * NetConf net = NetConf.parse("""
 *     {"Network": "10.244.0.0/16", "Backend": {"Type": "vxlan"}}""");
 * NodeConfig config = NodeConfig.of(net, Ipv4Prefix.parse("10.244.1.0/24"), Ipv4Address.parse("192.0.2.1"));
 * try (OverlayNode node = OverlayNode.start(config)) {
 *     publish(node.localLease());                       // {"Subnet":"10.244.1.0/24","PublicIP":"192.0.2.1",...}
 *     node.addPeer(Lease.parse(peerLeaseJson));         // as leases come and go
 *     node.removePeer(Ipv4Prefix.parse("10.244.2.0/24"));
 *     System.out.println(node.stats());                 // packets, bytes, drops by reason
 * }                                                     // threads stopped, TUN and its route gone
 * }</pre>
 *
 * <p><b>Start.</b> {@link #start} does, in the calling thread's network namespace, what flanneld
 * does for its device, and then starts forwarding:
 * <ol>
 *   <li>finds the interface that holds the public IP; the underlay MTU is the backend's
 *       {@code MTU} when set, else that interface's;</li>
 *   <li>creates the TUN device, sets its MTU to the underlay MTU minus the backend's overhead
 *       (vxlan 50, udp 28, ipip 20, wireguard 80) unless the config fixes it, its transmit queue length
 *       ({@link PacketPathOptions#tunQueueLength()}), gives it the subnet's network address as a
 *       /32, turns its IPv6 link-local address off, brings it up and routes the whole Network through it
 *       ({@code ip route replace 10.244.0.0/16 dev flannel.1});</li>
 *   <li>maps the packet buffers ({@link PacketPathOptions#poolSize()}, and with offload the TUN's
 *       super-packet buffers, {@link PacketPathOptions#tunPoolSize}; anonymous pages, resident only
 *       where packets were written, and given back when the path has been idle a while: see
 *       {@code WakeableFd.IDLE_MILLIS}), opens the backend for the
 *       configured type (its UDP socket, or ipip's raw socket, bound to the public IP) and starts
 *       the {@link Pipeline} on the threads {@link PacketPathOptions#tunWriter()} names (its Javadoc draws the
 *       path stage by stage).</li>
 * </ol>
 * <b>Queues.</b> With {@link PacketPathOptions#queues()} above 1 (udp and vxlan) the TUN is
 * multi-queue and every queue has a path of its own ({@link QueuePath}): its descriptor, its
 * buffers, an encapsulation and a UDP socket of the backend's ({@link Backend#openLane}), its
 * threads. The kernel spreads the pods' flows over the queues (by flow hash, and a flow's replies
 * onto the queue its packets were written from); the sockets of all queues are one {@code
 * SO_REUSEPORT} group on the backend's port, which hands each datagram to the socket of its inner
 * flow ({@link io.dataplane.tun.udp.FlowSteering}): every datagram between two nodes has the same
 * outer addresses and ports, so the kernel's own choice by the outer 4-tuple would put all flows
 * from one peer on one socket. The queues share the backend's tables (routes, neighbors, FDB,
 * the peer book: published copies, read without locks) and nothing else: counters per path, and
 * the peers' counters per path too ({@code PeerEntries.addLane}), summed when read.
 * <b>host-gw</b> has no packet path: the node only finds the interface of the public IP and opens
 * {@link HostGwBackend}, whose peers become kernel routes; no TUN, no buffers, no packet-path thread. Then
 * {@link #tunName()} is null, {@link #tunMtu()} the underlay's MTU (the one pods use, as flanneld
 * writes it to subnet.env), {@link #port()} 0 and the stats all zero.
 * Any failure undoes what was done and throws. Threads the node starts inherit the caller's
 * namespace; descriptors keep theirs, so every other method may be called from any thread.
 *
 * <p><b>Peers</b> come and go with {@link #addPeer} and {@link #removePeer} while packets flow; the
 * backend turns a lease into its table entries without stopping the packet path.
 *
 * <p><b>MTU.</b> Unless {@code Backend.MTU} or the config fixes it, the TUN's MTU follows the
 * underlay interface's MTU while the node runs ({@link #tunMtu()}): a lowered underlay MTU lowers
 * the TUN's as soon as the kernel reports the change ({@link UnderlayMtuWatch}), so the kernel
 * answers pod packets that no longer fit with ICMP fragmentation-needed and TCP adapts; it rises
 * again as far as the MTU the node started with, which its packet buffers were made for. Either
 * way the packet path hears of the underlay's MTU ({@code Pipeline.underlayMtu}): it cuts
 * super-packets to fit and answers a packet with DF that does not fit with ICMP fragmentation
 * needed itself, as the kernel's VXLAN does, which is what pods see under a configured MTU above
 * the link's; and a datagram sent before it heard is fragmented by the kernel rather than lost.
 *
 * <p><b>Kernel routes</b> the backend added (host-gw's, DirectRouting's) are written again every
 * {@link #ROUTE_CHECK_INTERVAL} on a thread of their own, "dp-routecheck", as flanneld's
 * {@code routeCheck} does: a route someone deleted comes back within that time. Routes the kernel
 * refuses are logged once, and again whenever what it refuses changes.
 *
 * <p><b>Close</b> stops every thread, closes the socket, removes the route and address it added and
 * the TUN device, and returns every packet buffer ({@link #buffersInUse()} is 0 afterwards).
 * Idempotent, callable from any thread, a shutdown hook included.
 */
public final class OverlayNode implements AutoCloseable {
    private static final Logger LOG = System.getLogger(OverlayNode.class.getName());
    /** How often the kernel routes the backend added are written again (flanneld's routeCheck: ten seconds). */
    public static final Duration ROUTE_CHECK_INTERVAL = Duration.ofSeconds(10);

    private final NodeConfig config;
    private final Netlink netlink;
    private final UnderlayLink underlay;
    private final int underlayMtu;
    private final int tunMtu;
    private final TunDevice tun; // the first queue's; null for host-gw
    private final Backend backend;
    private final List<QueuePath> queues; // every queue's packet path; empty for host-gw
    private final Route tunRoute;
    private final boolean addedAddress;
    private volatile UnderlayMtuWatch mtuWatch; // null for host-gw; with a configured MTU it tracks the underlay's for the packet path
    private boolean closed;
    private final Object routeCheckLock = new Object();
    private boolean routeCheckStopped; // guarded by routeCheckLock
    private Thread routeCheck; // null unless the backend keeps kernel routes

    private OverlayNode(NodeConfig config, Netlink netlink, UnderlayLink underlay, int underlayMtu, int tunMtu, List<QueuePath> queues,
            Backend backend, Route tunRoute, boolean addedAddress) {
        this.config = config;
        this.netlink = netlink;
        this.underlay = underlay;
        this.underlayMtu = underlayMtu;
        this.tunMtu = tunMtu;
        this.queues = queues;
        this.tun = queues.isEmpty() ? null : queues.get(0).tun();
        this.backend = backend;
        this.tunRoute = tunRoute;
        this.addedAddress = addedAddress;
    }

    /**
     * Creates the TUN, the backend and the packet path in the calling thread's network namespace
     * and starts forwarding (see the class comment).
     *
     * @throws ConfigException naming the field and value when the
     *     configuration asks for what this dataplane does not do (a backend type it has no backend for,
     *     an MTU that leaves no room for the overhead), or the public IP is no address of this host
     *     (field {@code publicIp})
     * @throws IOException naming the call, device and errno when the kernel refuses (no root, the
     *     port in use)
     */
    public static OverlayNode start(NodeConfig config) throws IOException {
        BackendConf backendConf = config.netConf().backend();
        BackendType type = backendConf.type();
        BackendProvider provider = BackendProvider.of(type);
        String tunName = config.effectiveTunName();
        List<AutoCloseable> undo = new ArrayList<>();
        Netlink netlink = Netlink.open();
        undo.add(netlink);
        try {
            UnderlayLink underlay = UnderlayLink.find(netlink, config.publicIp());
            int underlayMtu = backendConf.mtu() != 0 ? backendConf.mtu() : underlay.link().mtu();
            int tunMtu = config.tunMtu() != 0 ? config.tunMtu() : underlayMtu - provider.overhead();
            if (tunMtu < BackendConf.MIN_IPV4_MTU) {
                String from = backendConf.mtu() != 0 ? "Backend.MTU" : "the MTU of " + underlay.link().name() + ", the public IP's interface";
                throw new ConfigException(null, "Backend.MTU", "underlay MTU leaves no room for the " + type + " overhead: "
                        + underlayMtu + " (" + from + ") - " + provider.overhead() + " = " + tunMtu + " (min " + BackendConf.MIN_IPV4_MTU + ")");
            }
            if (!provider.packetPath()) {
                Backend kernelOnly = Backends.open(provider, new BackendContext(config.netConf(), config.subnet(), config.publicIp(), null,
                        tunMtu, null, config.effectiveStateDir()), config, false);
                OverlayNode node = new OverlayNode(config, netlink, underlay, underlayMtu, tunMtu, List.of(), kernelOnly, null, false);
                node.startRouteCheck();
                LOG.log(Level.INFO, () -> "started " + node);
                return node;
            }
            PacketPathOptions packetPath = config.packetPath();
            // TSO from the TUN, cut again by the socket (UDP GSO; one sendmmsg of the segments for raw
            // IP), or sealed segment by segment into a train (WireGuard): only where the backend takes
            // them and the TUN reader sends (no send ring holds super-packets).
            // A backend that seals every segment on its own (WireGuard: it needs room beyond the super-packet)
            // offloads where the TUN reader sends: the default threading and the single thread, whose
            // socket sends the trains as well (the single thread receives datagram by datagram).
            boolean offload = packetPath.offload() && packetPath.socket() == PacketPathOptions.SocketDriver.DIRECT
                    && provider.superPackets()
                    && (provider.superPacketRoom() == 0 || packetPath.tunWriter() != Pipeline.TunWriter.THREAD);
            // The virtio_net_hdr on every TUN, offloads or not: a packet whose checksum a kernel peer left
            // partial goes in with NEEDS_CSUM, as that kernel meant it, not summed here (see TunDevice).
            TunOptions tunOptions = TunOptions.defaults().withBatchSize(packetPath.tunBatch()).withVnetHeader(Set.of())
                    .withIoUring(packetPath.ioUring());
            // Trains of datagrams received as one (UDP GRO) into the same 64 KiB buffers, where the
            // receive thread writes them into the TUN itself (a ring would hold a 64 KiB buffer per slot).
            BackendProvider.Receive receive = provider.receive();
            boolean receiveTrains = offload && packetPath.tunWriter() == Pipeline.TunWriter.RECEIVE_THREAD
                    && receive != BackendProvider.Receive.DATAGRAMS;
            // A kernel VTEP's whole super-packets need 64 KiB buffers, but with trains they arrive in the TUN pool's.
            int slot = receive == BackendProvider.Receive.WHOLE_SUPER_PACKETS && !receiveTrains ? SUPER_PACKET_BUFFER
                    : bufferSize(underlayMtu, tunMtu + provider.overhead());
            PacketPool pool = new PacketPool(packetPath.poolSize(), slot, PacketPool.DEFAULT_HEADROOM, PageMemory.POOL);
            undo.add(pool);
            PacketPool tunPool = pool;
            int tunBuffers = packetPath.tunPoolSize(receiveTrains);
            if (offload) {
                tunOptions = tunOptions.withVnetHeader(EnumSet.of(TunOffload.CSUM, TunOffload.TSO4));
                tunPool = new PacketPool(tunBuffers, SUPER_PACKET_BUFFER + provider.superPacketRoom(), PacketPool.DEFAULT_HEADROOM, PageMemory.POOL);
                undo.add(tunPool);
                tunPool.idleWith(pool); // with trains no reader holds the small buffers armed
            }
            boolean existed = linkExists(netlink, tunName);
            List<TunDevice> tuns = packetPath.queues() > 1 ? TunDevice.openQueues(tunName, packetPath.queues(), tunOptions)
                    : List.of(TunDevice.open(tunName, tunOptions));
            undo.addAll(tuns);
            TunDevice tun = tuns.get(0);
            tunName = tun.name();
            netlink.setMtu(tunName, tunMtu);
            if (packetPath.tunQueueLength() != 0) netlink.setTxQueueLength(tunName, packetPath.tunQueueLength());
            if (offload && provider.superPacketSegments() > 0) netlink.setGsoMaxSegments(tunName, provider.superPacketSegments());
            boolean addedAddress = addAddress(netlink, tunName, config.subnet().address(), existed);
            if (addedAddress) undo.add(() -> ignoreGone(() -> netlink.deleteAddress(tun.name(), config.subnet().address(), 32)));
            ipv4Only(netlink, tunName);
            netlink.setUp(tunName, true);
            Route route = Route.direct(config.netConf().network(), tunName);
            netlink.replaceRoute(route);
            undo.add(() -> ignoreGone(() -> netlink.deleteRoute(route)));

            Files.createDirectories(config.effectiveStateDir());
            BackendContext context = new BackendContext(config.netConf(), config.subnet(), config.publicIp(), tunName, tunMtu,
                    receiveTrains ? tunPool : pool, config.effectiveStateDir());
            Backend backend = Backends.open(provider, context, config, receiveTrains);
            undo.add(backend);
            List<QueuePath> queues = new ArrayList<>();
            queues.add(QueuePath.start(tun, pool, tunPool, backend.encapsulation(), backend.transport(), backend.routes(), packetPath));
            undo.add(queues.get(0).pipeline());
            for (int q = 1; q < tuns.size(); q++) {
                // Each further queue: buffers, an encapsulation and a socket of its own, the backend's tables.
                PacketPool qPool = new PacketPool(packetPath.poolSize(), slot, PacketPool.DEFAULT_HEADROOM, PageMemory.POOL);
                undo.add(qPool);
                PacketPool qTunPool = qPool;
                if (offload) {
                    qTunPool = new PacketPool(tunBuffers, SUPER_PACKET_BUFFER + provider.superPacketRoom(), PacketPool.DEFAULT_HEADROOM, PageMemory.POOL);
                    undo.add(qTunPool);
                    qTunPool.idleWith(qPool);
                }
                Backend.Lane lane = openLane(backend, receiveTrains ? qTunPool : qPool, packetPath.queues());
                QueuePath path = QueuePath.start(tuns.get(q), qPool, qTunPool, lane.encapsulation(), lane.transport(), backend.routes(), packetPath);
                undo.add(path.pipeline());
                queues.add(path);
            }
            OverlayNode node = new OverlayNode(config, netlink, underlay, underlayMtu, tunMtu, List.copyOf(queues), backend, route, addedAddress);
            node.setUnderlayMtu(underlay.link().mtu());
            node.mtuWatch = backendConf.mtu() == 0 && config.tunMtu() == 0
                    ? UnderlayMtuWatch.start(netlink, underlay.link(), tunName, provider.overhead(), tunMtu, node::setUnderlayMtu)
                    : UnderlayMtuWatch.track(netlink, underlay.link(), node::setUnderlayMtu);
            if (backendConf.directRouting()) node.startRouteCheck(); // last: nothing after it throws
            LOG.log(Level.INFO, () -> "started " + node);
            return node;
        } catch (IOException | RuntimeException | Error e) {
            for (int i = undo.size() - 1; i >= 0; i--) {
                try {
                    undo.get(i).close();
                } catch (Exception suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw e;
        }
    }

    /** A further queue's lane of {@code backend}; a backend that runs one path is a configuration error naming {@code queues}. */
    private static Backend.Lane openLane(Backend backend, PacketPool pool, int queues) throws IOException {
        try {
            return backend.openLane(pool);
        } catch (UnsupportedOperationException e) {
            throw new ConfigException(null, "queues", e.getMessage() + ": queues=" + queues + " (more than 1 with udp and vxlan only)");
        }
    }

    /**
     * The backends this build can run, in {@link BackendType} order: what {@link #start} accepts as
     * {@code Backend.Type}.
     */
    public static Set<BackendType> supportedBackends() {
        Set<BackendType> supported = new TreeSet<>();
        for (BackendProvider p : BackendProvider.installed()) supported.add(p.type());
        return Collections.unmodifiableSet(supported);
    }

    /**
     * The public IP flanneld takes when given none, in the calling thread's network namespace:
     * the first IPv4 address of the interface the default route leaves through.
     *
     * @throws ConfigException for the field {@code publicIp} when there is no default route or its
     *     interface has no IPv4 address: then the public IP must be given
     */
    public static int defaultPublicIp() throws IOException {
        try (Netlink netlink = Netlink.open()) {
            return UnderlayLink.ofDefaultRoute(netlink).address().address();
        }
    }

    /** A TUN super-packet (64 KiB with its IPv4 header) behind the headroom, and the tailroom of {@link #bufferSize}. */
    private static final int SUPER_PACKET_BUFFER = PacketPool.DEFAULT_HEADROOM + 65536 + 1024;

    /** Slots big enough for a full-size datagram of the underlay and a TUN packet with its encapsulation, 2 KiB at least. */
    private static int bufferSize(int underlayMtu, int encapsulatedMtu) {
        int payload = Math.max(underlayMtu, encapsulatedMtu);
        int size = PacketPool.DEFAULT_HEADROOM + payload + 64; // tailroom for a trailer
        return Math.max(PacketPool.DEFAULT_BUFFER_SIZE, (size + 1023) & ~1023);
    }

    private static boolean linkExists(Netlink netlink, String name) throws IOException {
        if (name.contains("%")) return false;
        for (Link l : netlink.links()) {
            if (l.name().equals(name)) return true;
        }
        return false;
    }

    // An existing device (attached to, not created) may have the address already: then it is not ours to remove.
    private static boolean addAddress(Netlink netlink, String tunName, int address, boolean existed) throws IOException {
        try {
            netlink.addAddress(tunName, address, 32);
            return true;
        } catch (ErrnoException e) {
            if (existed && e.errno() == Errno.EEXIST) return false;
            throw e;
        }
    }

    /**
     * No IPv6 link-local address on the TUN: else the kernel sends router solicitations and MLD
     * reports into it, which the node can only drop (NOT_IPV4). A kernel without IPv6 needs nothing.
     */
    private static void ipv4Only(Netlink netlink, String tunName) throws IOException {
        try {
            netlink.setIpv6LinkLocal(tunName, false);
        } catch (ErrnoException e) {
            if (e.errno() != Errno.EAFNOSUPPORT) throw e;
        }
    }

    /** A removal that finds the thing already gone (the device went with its last descriptor) is no error. */
    private static void ignoreGone(NetlinkAction action) throws IOException {
        try {
            action.run();
        } catch (ErrnoException e) {
            int errno = e.errno();
            if (errno != Errno.ENODEV && errno != Errno.ESRCH && errno != Errno.EADDRNOTAVAIL && errno != Errno.ENOENT) throw e;
        }
    }

    @FunctionalInterface
    private interface NetlinkAction {
        void run() throws IOException;
    }

    // ---- control plane ----

    /**
     * Our lease as the other nodes must see it: subnet, public IP, backend type and data (for vxlan
     * the VNI and our VTEP MAC). Publish it where the other nodes' agents read leases.
     */
    public Lease localLease() {
        return backend.localLease();
    }

    /**
     * Adds the peer a lease describes, or updates the peer with the same subnet; effective for the
     * next packet. Our own lease (it comes back from a lease watch) is ignored.
     *
     * @throws IllegalArgumentException naming the field and value when the lease does not fit this
     *     node (another backend type, its subnet overlapping ours or another peer's, outside the network)
     * @throws IllegalStateException after {@link #close}
     */
    public void addPeer(Lease lease) {
        checkOpen();
        if (lease != null && lease.subnet().equals(config.subnet()) && lease.publicIp() == config.publicIp()) return;
        backend.addPeer(lease);
    }

    /** Removes the peer with this subnet; its packets are dropped as NO_ROUTE from the next one on. False if there was none. */
    public boolean removePeer(Ipv4Prefix subnet) {
        checkOpen();
        return backend.removePeer(subnet);
    }

    /** The peers now configured. */
    public List<Lease> peers() {
        return backend.peers();
    }

    // ---- state ----

    /** The counters now: packets and bytes each way, drops by reason, buffers in use (all zero for host-gw). */
    public NodeStats stats() {
        List<Counters> all = new ArrayList<>();
        for (QueuePath q : queues) all.addAll(q.pipeline().counters());
        all.addAll(backend.counters()); // drops the backend decides on its own threads (WireGuard's timers, cookies)
        int capacity = 0;
        for (QueuePath q : queues) capacity += q.capacity();
        return new NodeStats(System.nanoTime(), Counters.Snapshot.of(all), buffersInUse(), capacity);
    }

    /**
     * The counters of each TUN queue's packet path, in queue order (one for a single-queue TUN,
     * none for host-gw): which share of the traffic each queue carries. {@link #stats()} sums them.
     */
    public List<Counters.Snapshot> queueStats() {
        List<Counters.Snapshot> each = new ArrayList<>(queues.size());
        for (QueuePath q : queues) each.add(Counters.Snapshot.of(q.pipeline().counters()));
        return List.copyOf(each);
    }

    /**
     * True if the TUN hands over TCP super-packets and takes joined ones (TSO with UDP GSO: see
     * {@link PacketPathOptions#offload()}); false without offload, for the backends that cannot use
     * it, and for host-gw.
     */
    public boolean offload() {
        return tun != null && tun.options().offloads().contains(TunOffload.TSO4);
    }

    /** True if the TUN reads and writes in batches through io_uring ({@link PacketPathOptions#ioUring()}, where the kernel allows it). */
    public boolean ioUring() {
        return tun != null && tun.ioUring();
    }

    /**
     * TCP super-packets from the TUN sent as their segments (UDP GSO) so far; stays 0 without
     * {@link PacketPathOptions#offload()}, for the backends that cannot use it, and for host-gw.
     */
    public long superPacketsSent() {
        long sent = 0;
        for (QueuePath q : queues) sent += q.pipeline().superPacketsSent();
        return sent;
    }

    /** Received TCP segments written into the TUN joined with others as one super-packet so far (see {@link #superPacketsSent()}). */
    public long segmentsJoined() {
        long joined = 0;
        for (QueuePath q : queues) joined += q.tun().coalesced();
        return joined;
    }

    /**
     * Trains of datagrams the socket received as one (UDP GRO, with {@link #offload()} in the
     * default threading) so far, and the datagrams in them: {@code [trains, datagrams]}; zeros
     * where the socket takes datagrams one by one.
     */
    public long[] trainsReceived() {
        long[] trains = new long[2];
        for (QueuePath q : queues) {
            if (q.transport() instanceof SocketTransport s) {
                trains[0] += s.trainsReceived();
                trains[1] += s.trainDatagrams();
            }
        }
        return trains;
    }

    /** Packet buffers out of the pool now; 0 after {@link #close}, and always for host-gw. */
    public int buffersInUse() {
        int out = 0;
        for (QueuePath q : queues) out += q.buffersInUse();
        return out;
    }

    /** The TUN's queues, each with a packet path of its own: {@link PacketPathOptions#queues()}; 0 for host-gw. */
    public int queues() {
        return queues.size();
    }

    /** The configuration the node was started with. */
    public NodeConfig config() {
        return config;
    }

    /** The backend this node runs. */
    public BackendType backendType() {
        return backend.type();
    }

    /**
     * The backend itself, to look at what it holds: its route table, and per type its own tables
     * (a {@code VxlanBackend}'s neighbors and FDB, a {@code WireGuardBackend}'s peers and their
     * transfer, a {@link HostGwBackend}'s kernel routes). Peers change through {@link #addPeer}
     * and {@link #removePeer} only.
     */
    public Backend backend() {
        return backend;
    }

    /** The TUN device's name; null for host-gw, which has none. */
    public String tunName() {
        return tun != null ? tun.name() : null;
    }

    /**
     * The TUN device's MTU: as set at start, or as it follows the underlay's MTU when neither
     * {@code Backend.MTU} nor the node's config fixes it ({@link UnderlayMtuWatch}); for host-gw the
     * underlay's MTU at start.
     */
    public int tunMtu() {
        UnderlayMtuWatch watch = mtuWatch;
        return watch != null && watch.followsTun() ? watch.tunMtu() : tunMtu;
    }

    /** The underlay MTU the TUN's MTU is derived from. */
    public int underlayMtu() {
        UnderlayMtuWatch watch = mtuWatch;
        return watch != null && watch.followsTun() ? watch.underlayMtu() : underlayMtu;
    }

    /** The underlay interface's MTU as the MTU watch last heard it, followed or not; 0 for host-gw, which has no watch. */
    int underlayLinkMtu() {
        UnderlayMtuWatch watch = mtuWatch;
        return watch != null ? watch.linkMtu() : 0;
    }

    // The underlay interface's MTU, for every queue's packet path (Pipeline.underlayMtu).
    private void setUnderlayMtu(int mtu) {
        for (QueuePath q : queues) q.pipeline().underlayMtu(mtu);
    }

    /** The name of the interface that holds the public IP. */
    public String underlayInterface() {
        return underlay.link().name();
    }

    /** The UDP port the node's socket listens on (the backend's Port); 0 for ipip's raw socket and for host-gw. */
    public int port() {
        return backend.transport() != null ? backend.transport().localPort() : 0;
    }

    /** True while every thread of the packet path runs (for host-gw: until {@link #close}). */
    public boolean isRunning() {
        synchronized (this) {
            if (closed) return false;
        }
        for (QueuePath q : queues) {
            if (!q.pipeline().isRunning()) return false;
        }
        return true;
    }

    /** The error that stopped a thread of the packet path, or null. */
    public Throwable failure() {
        for (QueuePath q : queues) {
            if (q.pipeline().failure() != null) return q.pipeline().failure();
        }
        return null;
    }

    /** The TUN's name, or for host-gw the backend's, for messages. */
    private String deviceName() {
        return tun != null ? tun.name() : backend.type().flannelName();
    }

    private synchronized void checkOpen() {
        if (closed) throw new IllegalStateException("overlay node on " + deviceName() + " is closed");
    }

    /**
     * Stops forwarding and removes what {@link #start} made: stops the threads, closes the socket
     * and the TUN (the kernel removes the device and its routes), removes the route and address
     * from a device that existed before, and frees the packet buffers once all are back.
     * Idempotent; a second caller waits until the first has finished.
     */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        stopRouteCheck();
        if (mtuWatch != null) mtuWatch.close();
        if (queues.isEmpty()) {
            // host-gw: deleting the peers' kernel routes is all there is to undo.
            quietly("close backend", backend::close);
            netlink.close();
            LOG.log(Level.INFO, () -> "closed overlay node on " + deviceName());
            return;
        }
        // Route and address first, while the device is surely there: a device that existed before we
        // attached outlives our descriptor, and one we created takes them along anyway.
        quietly("delete route " + tunRoute, () -> ignoreGone(() -> netlink.deleteRoute(tunRoute)));
        if (addedAddress) {
            quietly("delete address", () -> ignoreGone(() -> netlink.deleteAddress(tun.name(), config.subnet().address(), 32)));
        }
        for (QueuePath q : queues) quietly("close pipeline", q.pipeline()::close);
        quietly("close backend", backend::close);
        netlink.close();
        int left = buffersInUse();
        if (left == 0) {
            for (QueuePath q : queues) q.closePools();
        } else {
            // A thread that did not stop may still hand a buffer's address to the kernel: keep the memory.
            LOG.log(Level.WARNING, "overlay node on " + tun.name() + " closed with " + left + " packet buffers still out; not freeing them");
        }
        LOG.log(Level.INFO, () -> "closed overlay node on " + tun.name());
    }

    private void startRouteCheck() {
        routeCheck = Thread.ofPlatform().name("dp-routecheck").daemon().start(this::routeCheckLoop);
    }

    // Every ROUTE_CHECK_INTERVAL until close: the backend's kernel routes written again.
    private void routeCheckLoop() {
        List<String> refusedBefore = List.of();
        while (true) {
            synchronized (routeCheckLock) {
                long deadline = System.nanoTime() + ROUTE_CHECK_INTERVAL.toNanos();
                long left;
                while (!routeCheckStopped && (left = deadline - System.nanoTime()) > 0) {
                    try {
                        TimeUnit.NANOSECONDS.timedWait(routeCheckLock, left);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
                if (routeCheckStopped) return;
            }
            List<String> refused;
            try {
                refused = backend.restoreKernelRoutes();
            } catch (RuntimeException e) {
                refused = List.of(String.valueOf(e.getMessage()));
            }
            if (!refused.equals(refusedBefore)) {
                for (String r : refused) LOG.log(Level.WARNING, "route check on " + deviceName() + ": the kernel refused " + r);
                refusedBefore = refused;
            }
        }
    }

    private void stopRouteCheck() {
        if (routeCheck == null) return;
        synchronized (routeCheckLock) {
            routeCheckStopped = true;
            routeCheckLock.notifyAll();
        }
        try {
            routeCheck.join(TimeUnit.SECONDS.toMillis(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (routeCheck.isAlive()) LOG.log(Level.WARNING, "route check of " + deviceName() + " did not stop within 5 s");
    }

    @FunctionalInterface
    private interface Step {
        void run() throws Exception;
    }

    private void quietly(String what, Step step) {
        try {
            step.run();
        } catch (Exception e) {
            LOG.log(Level.WARNING, "closing overlay node on " + deviceName() + ": " + what + " failed: " + e.getMessage());
        }
    }

    @Override
    public String toString() {
        return "OverlayNode[" + backend.type() + " " + config.subnet() + " at " + Ipv4Address.toString(config.publicIp()) + " on "
                + underlay.link().name() + (tun != null ? ", " + tun.name() + " mtu " + tunMtu() : ", kernel routes") + "]";
    }
}
