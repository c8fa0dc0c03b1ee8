package io.dataplane.core.spi;

import io.dataplane.core.config.BackendConf;
import io.dataplane.core.config.BackendType;
import io.dataplane.core.config.ConfigException;
import io.dataplane.core.config.NetConf;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.ServiceLoader;
import java.util.function.Function;

/**
 * A backend as a plug-in: what a node needs to know about it before it opens one, and how to open
 * it. Each backend module registers a subclass, whose no-argument constructor passes these facts to
 * this one, in {@code META-INF/services/io.dataplane.core.spi.BackendProvider} (flannel's {@code
 * backend.Register} in each backend package's {@code init}); a node finds them with {@link
 * #installed()} and runs the one net-conf.json's {@code Backend.Type} names.
 */
public abstract class BackendProvider {

    /** How a provider opens its backend. */
    @FunctionalInterface
    protected interface Factory {
        /** Opens the backend for {@code context}, its underlay sockets from {@code setup}. */
        Backend open(BackendContext context, BackendSetup setup) throws IOException;
    }

    /** What a backend's socket receives from its peers, which sizes the node's receive buffers. */
    public enum Receive {
        /** One datagram at a time, none longer than the TUN's packet with the tunnel's headers. */
        DATAGRAMS,
        /**
         * Trains of datagrams from one sender taken up as one (UDP GRO, where the node's threading
         * allows it): peers send plain datagrams or UDP GSO messages, never tunnel super-packets.
         */
        TRAINS,
        /**
         * Trains as {@link #TRAINS}, and besides them single datagrams of up to 64 KiB: a kernel
         * peer across a veth hands the socket whole TCP super-packets (UDP tunnel GSO), to which the
         * kernel attaches no GRO size (it reports one for {@code SKB_GSO_UDP_L4} only), so they come
         * up as one datagram each. A whole UDP super-packet of such a peer does carry a GRO size,
         * its inner segment's; the encapsulation tells it from a train ({@link
         * Encapsulation#wholeSuperPacket}). Without trains (no offload) every datagram comes alone,
         * the super-packets as well. A raw IP socket (ipip) has no trains, only the whole
         * super-packets: a kernel peer's, or what the underlay's GRO joined.
         */
        WHOLE_SUPER_PACKETS
    }

    private final BackendType type;
    private final Function<BackendConf, String> tunName;
    private final boolean superPackets;
    private final boolean packetPath;
    private final Receive receive;
    private final Factory factory;

    /**
     * @param type the backend type it runs
     * @param tunName flannel's name of the backend's device for a configuration
     * @param superPackets see {@link #superPackets()}
     * @param packetPath see {@link #packetPath()}
     * @param factory opens the backend
     */
    protected BackendProvider(BackendType type, Function<BackendConf, String> tunName, boolean superPackets, boolean packetPath,
            Factory factory) {
        this(type, tunName, superPackets, packetPath, Receive.DATAGRAMS, factory);
    }

    /**
     * As the constructor without {@code receive}, for a backend whose socket receives as {@code
     * receive} says ({@link #receive()}).
     */
    protected BackendProvider(BackendType type, Function<BackendConf, String> tunName, boolean superPackets, boolean packetPath,
            Receive receive, Factory factory) {
        this.type = type;
        this.tunName = tunName;
        this.superPackets = superPackets;
        this.packetPath = packetPath;
        this.receive = receive;
        this.factory = factory;
    }

    /** The backend type it runs, as net-conf.json's {@code Backend.Type} and the leases name it. */
    public final BackendType type() {
        return type;
    }

    /** flannel's name of the backend's device under {@code conf} ({@code flannel.1} for vxlan's VNI 1). */
    public final String tunName(BackendConf conf) {
        return tunName.apply(conf);
    }

    /** Bytes the tunnel adds on the wire, outer headers included: the TUN's MTU is the underlay's minus this. */
    public final int overhead() {
        return type.overhead();
    }

    /**
     * True when the encapsulation takes TCP super-packets from the TUN (TSO) and puts the same
     * headers on every segment, so that the socket can cut them again (UDP GSO), or seals each
     * segment into a train of datagrams the socket sends as they are ({@link Encapsulation#sealsSuperPackets}).
     */
    public final boolean superPackets() {
        return superPackets;
    }

    /**
     * False for a backend without a packet path (host-gw: kernel routes only), for which a node
     * creates no TUN, pool or pipeline and passes a context without a pool.
     */
    public final boolean packetPath() {
        return packetPath;
    }

    /**
     * Bytes a TUN buffer needs beyond a 64 KiB TCP super-packet for the backend to send it: 0, the
     * default, where the transport cuts it; more where the encapsulation lays its segments out in
     * the same buffer, each with headers and trailers of its own (WireGuard).
     */
    public int superPacketRoom() {
        return 0;
    }

    /**
     * The most segments a TCP super-packet from the TUN may have: 0, the default, for no bound of
     * the backend's; above 0 where {@link #superPacketRoom()} holds the segments' headers and
     * trailers only up to that many. The node sets it as the TUN's {@code gso_max_segs}, so the
     * kernel never hands the TUN a longer one (it cuts a forwarded one into segments first).
     *
     * <p>A bound below the segments of a pod's full super-packet (47 at MTU 1450) costs forwarded
     * traffic its offload: the kernel cuts such a super-packet into single packets in software
     * before the TUN ({@code gso_features_check}), not into super-packets within the bound. So no
     * backend bounds its super-packets to fit one UDP GSO message (44 segments of vxlan at MTU
     * 1450): a super-packet of more leaves in two messages, and the peer joins the two trains into
     * one TUN write again.
     */
    public int superPacketSegments() {
        return 0;
    }

    /** What the backend's socket receives from its peers: {@link Receive#DATAGRAMS} unless the provider says otherwise. */
    public final Receive receive() {
        return receive;
    }

    /**
     * Opens the backend for the node {@code context} describes, its underlay sockets from {@code setup}.
     *
     * @throws ConfigException when {@code context}'s configuration asks for what this backend does not do
     * @throws IllegalArgumentException naming the value when the context does not fit (pool too small)
     * @throws IOException when a socket or file cannot be opened
     */
    public final Backend open(BackendContext context, BackendSetup setup) throws IOException {
        return factory.open(context, setup);
    }

    /**
     * The BackendData this node's lease carries, known before the backend opens (a control plane
     * publishes it when it takes the lease): from the state directory the node will start with,
     * created there when missing, so that the opened backend's lease carries the same. Null, the
     * default, for a backend whose leases carry none.
     *
     * @param net the network; {@code net.subnetMin()} stands in for the subnet not leased yet
     * @param publicIp the node's public IP
     * @param stateDir the node's state directory
     * @throws IOException when the state directory's files cannot be read or written
     */
    public String leaseData(NetConf net, int publicIp, Path stateDir) throws IOException {
        return null;
    }

    /** The providers on the class path, in {@link BackendType} order. */
    public static List<BackendProvider> installed() {
        List<BackendProvider> all = new ArrayList<>();
        ServiceLoader.load(BackendProvider.class).forEach(all::add);
        all.sort(Comparator.comparing(BackendProvider::type));
        return List.copyOf(all);
    }

    /**
     * The provider of {@code type} on the class path.
     *
     * @throws ConfigException naming the type and the installed ones when there is none
     */
    public static BackendProvider of(BackendType type) {
        List<BackendProvider> all = installed();
        for (BackendProvider p : all) {
            if (p.type().equals(type)) return p;
        }
        throw new ConfigException(null, "Backend.Type", "no backend module for " + type + " on the class path (installed: "
                + String.join(", ", all.stream().map(p -> p.type().flannelName()).toList()) + ")");
    }

    @Override
    public String toString() {
        return "BackendProvider[" + type + "]";
    }
}
