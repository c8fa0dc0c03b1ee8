package io.dataplane.vxlan;

import static io.dataplane.core.wire.NetworkOrder.U16;
import static io.dataplane.core.wire.NetworkOrder.U64;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.spi.Encapsulation;
import io.dataplane.core.stats.DropReason;
import io.dataplane.core.table.AddressSet;
import io.dataplane.core.table.Fdb;
import io.dataplane.core.table.NeighborTable;
import io.dataplane.core.table.PeerEntries;
import io.dataplane.core.table.PeerEntry;
import io.dataplane.core.wire.ArpPacket;
import io.dataplane.core.wire.EthernetHeader;
import io.dataplane.core.wire.Ipv4Header;
import io.dataplane.core.wire.MacAddress;
import io.dataplane.core.wire.PartialChecksum;
import io.dataplane.core.wire.TcpHeader;
import io.dataplane.core.wire.UdpHeader;
import io.dataplane.core.wire.VxlanHeader;
import java.lang.foreign.MemorySegment;

/**
 * A VXLAN tunnel endpoint (RFC 7348) in user space that puts exactly the bytes on the wire that the
 * kernel's {@code flannel.1} does, and takes what it sends.
 *
 * <pre>
 *   UDP payload (the socket writes outer IPv4 and UDP):
 *   +-------------------+----------------------------------+------------------------+
 *   | VXLAN, 8 bytes    | inner Ethernet, 14 bytes         | inner IPv4 packet      |
 *   | 08 00 00 00       | dst = peer VTEP MAC              | (as read from the TUN, |
 *   | VNI(24) 00        | src = our VTEP MAC, type 0x0800  |  not changed)          |
 *   +-------------------+----------------------------------+------------------------+
 * </pre>
 *
 * <h2>Encapsulation: route, neighbor, FDB, as the kernel</h2>
 * The route lookup has already happened: its value, {@code nextHop}, is the route's gateway, the
 * peer subnet's network address, as in flannel's {@code 10.244.2.0/24 via 10.244.2.0 dev flannel.1
 * onlink}. The gateway resolves in the {@link NeighborTable} to the peer VTEP's MAC ({@code
 * NO_NEIGHBOR} if it has none: the kernel would ARP and, with flannel's tables, never get an
 * answer), and that MAC in the {@link Fdb} to the peer's underlay address ({@code NO_FDB}). The
 * tables are read on every packet, two lock-free hash probes; there is no cache to go stale, so
 * whatever the control plane changes is in force for the next packet (a packet that races a
 * neighbor's switch to a new MAC looks the neighbor up once more rather than drop). The FDB entry
 * also carries the id of the peer's {@link PeerEntry}, which the packet carries on for the counters. Then 22 bytes are written in
 * front of the packet in place and the datagram goes to the peer's address at {@link
 * VtepConfig#port()}.
 *
 * <h2>Source port</h2>
 * The kernel hashes the inner flow into the UDP source port (from the ephemeral range,
 * {@code udp_flow_src_port}) so that ECMP and receive-side scaling spread flows. Our datagrams leave
 * from the socket's own port, the VXLAN port (8472), for every flow. The kernel accepts them: its
 * VXLAN receive path finds the socket by destination port and the device by VNI and never looks at
 * the source port, and RFC 7348 only recommends the hash. The cost is entropy: every flow between
 * two nodes shares one outer 5-tuple, so a receiving NIC steers them all to one queue.
 *
 * <h2>Decapsulation, in the order the checks run</h2>
 * <ol>
 *   <li>{@code UNKNOWN_PEER}: the source address is no FDB entry's endpoint (unless {@link
 *       VtepConfig#acceptUnknownPeers()}, which takes any source as the kernel does). The source
 *       port is not checked: the kernel's varies per flow. The same probe finds the peer's {@link
 *       PeerEntry} (the FDB entry's tag), which the datagram carries on for the counters.</li>
 *   <li>{@code TRUNCATED}: shorter than VXLAN header plus inner Ethernet header.</li>
 *   <li>{@code VXLAN_BAD_FLAGS}: the I flag is clear.</li>
 *   <li>{@code VXLAN_UNKNOWN_VNI}: not our VNI (the kernel finds no device for it).</li>
 *   <li>{@code VXLAN_BAD_FLAGS}: any other flag or reserved bit is set. This is {@link VxlanHeader}'s
 *       policy, the Linux kernel's: its {@code vxlan_rcv} checks the I flag, finds the device for
 *       the VNI, then drops a header with reserved bits that no configured extension claims, and
 *       flannel configures none (RFC 7348 says to ignore them), so a flannel.1 peer and we agree
 *       on every packet and on the reason.</li>
 *   <li>{@code VXLAN_NOT_OUR_MAC}: the inner destination is not our VTEP MAC; broadcast is taken
 *       for ARP only (the kernel marks other destinations PACKET_OTHERHOST and IP drops them).</li>
 *   <li>ARP (ethertype 0x0806): a request for our VTEP address is answered, see below; any other
 *       ARP is {@code VXLAN_ARP_IGNORED}, ARP other than IPv4 over Ethernet {@code
 *       ARP_UNSUPPORTED}.</li>
 *   <li>{@code VXLAN_BAD_ETHERTYPE}: neither IPv4 nor ARP (a TUN carries IP only).</li>
 *   <li>The inner IPv4 header as {@link Ipv4Header#validate} judges it, then its checksum ({@code
 *       BAD_CHECKSUM}: the kernel's {@code ip_rcv} would drop it, uncounted by us), then its total
 *       length, and the length of what follows the inner Ethernet header, against
 *       {@link VtepConfig#innerMtu()} ({@code OVERSIZE}), except a TCP super-packet, see below.</li>
 *   <li>{@code FORWARD}: the data is trimmed to the inner IPv4 packet, Ethernet padding after its
 *       total length included.</li>
 * </ol>
 *
 * <h2>TCP super-packets from a kernel VTEP</h2>
 * A kernel VXLAN device whose underlay is a veth (containers or VMs on one host, a KinD cluster)
 * hands the veth its TCP super-packets whole (GSO), and a UDP socket receives each as one datagram
 * of up to 64 KiB; the kernel's own VXLAN receive passes them on whole. So does decap: an inner
 * packet beyond the MTU that is TCP with the partial checksum such a super-packet carries forwards
 * with {@link PacketBuffer#gsoSize()} set to the segment size the TUN's MTU allows, and the TUN
 * takes it as one super-packet. Any other oversize packet is {@code OVERSIZE}.
 *
 * <h2>Trains and UDP super-packets</h2>
 * A socket with UDP GRO takes up a train of VXLAN datagrams from one sender (a peer like us that
 * sends UDP GSO, or datagrams the kernel's GRO joined) as one buffer with their size, and each
 * datagram of it comes to {@link #decap} on its own. The kernel reports that size only for
 * {@code SKB_GSO_UDP_L4}, so a kernel VTEP's TCP super-packet ({@code SKB_GSO_TCPV4} with
 * {@code SKB_GSO_UDP_TUNNEL}) comes up without one, as above. A kernel VTEP's UDP super-packet (a
 * pod that sends with {@code UDP_SEGMENT}) carries {@code SKB_GSO_UDP_L4} too, and the size
 * reported is its inner datagrams' payload size; {@link #wholeSuperPacket} tells it from a train by
 * its first inner packet, which spans the whole buffer, and {@link #decap} forwards it whole with
 * that size kept (the TUN cuts it at the sender's datagram boundaries), if it is UDP with the
 * partial checksum and each datagram fits the TUN's MTU; otherwise {@code OVERSIZE}.
 *
 * <h2>ARP</h2>
 * flannel programs permanent neighbor entries, so a flannel.1 peer does not normally ARP; if one
 * does, for our VTEP address, the request is answered in place the way the kernel answers for an
 * address on {@code flannel.1}: the ARP reply (our MAC is at our VTEP address), an inner Ethernet
 * header from our MAC to the requester's, the same VXLAN header, {@code REPLY}. The reply goes to
 * the request's source address at the VXLAN port, not to its source port: a kernel VTEP listens on
 * the VXLAN port only.
 *
 * <h2>TTL</h2>
 * Neither direction touches the inner TTL, as the kernel's VXLAN driver does not: {@code flannel.1}
 * is a device, and the kernel's forwarding decrements the TTL on the way into it and again on the
 * way out of the peer's. Our TUN stands where {@code flannel.1} stands, in both kernels: a pod's
 * packet is decremented when its node routes it into the TUN (the kernel sends time exceeded if it
 * expires there) and when the peer's kernel routes it from its TUN to the pod. The TTL a pod sees
 * and what traceroute shows are therefore the same as with flannel.1, provided the TUN carries the
 * VTEP address as flannel.1 does. A packet read from the TUN with TTL 1 is sent on, as flannel.1
 * sends it; the peer's kernel expires it.
 *
 * <h2>Threads</h2>
 * {@link #encap} runs on one thread (the pipeline's egress thread) and {@link #decap} on one other
 * (the transport's); each direction has its own header views. Neither allocates or throws on bad
 * input.
 */
public final class VxlanEncapsulation implements Encapsulation {
    /** Offset of the inner Ethernet header in the UDP payload. */
    static final int INNER_ETH = VxlanHeader.HEADER_LEN;
    /** Offset of the inner IPv4 packet (or ARP packet) in the UDP payload. */
    static final int INNER_IP = INNER_ETH + EthernetHeader.HEADER_LEN;
    /** Length of the datagram that carries an ARP reply. */
    static final int ARP_FRAME_LEN = INNER_IP + ArpPacket.HEADER_LEN;
    private static final long BROADCAST = MacAddress.BROADCAST.value();
    private static final long MULTICAST_BIT = 1L << 40;

    private final VtepConfig config;
    private final NeighborTable neighbors;
    private final Fdb fdb;
    private final PeerEntries entries;
    private final long vxlanHeader;
    private final long ourMac;
    private final int vtepAddress;
    private final int port;
    private final int innerMtu;
    private final boolean acceptUnknownPeers;
    // Used by decap only (its own thread).
    private final Ipv4Header innerIp = new Ipv4Header();
    private final ArpPacket arp = new ArpPacket();
    private final TcpHeader innerTcp = new TcpHeader();
    // Written by decap only.
    private volatile long superPacketsReceived;

    /**
     * A VTEP that resolves next hops through {@code neighbors} and {@code fdb}; the control plane
     * fills both (see {@link VxlanBackend}) and may change them at any time. It counts no traffic per peer.
     */
    public VxlanEncapsulation(VtepConfig config, NeighborTable neighbors, Fdb fdb) {
        this(config, neighbors, fdb, new PeerEntries());
    }

    /**
     * A VTEP that resolves next hops through {@code neighbors} and {@code fdb}, and whose FDB
     * entries carry the ids of the peers' {@code entries}, on which the stages count each peer's
     * traffic; the control plane fills all three (see {@link VxlanBackend}) and may change them at any time.
     */
    public VxlanEncapsulation(VtepConfig config, NeighborTable neighbors, Fdb fdb, PeerEntries entries) {
        if (neighbors == null) throw new IllegalArgumentException("neighbor table missing: neighbors=null");
        if (fdb == null) throw new IllegalArgumentException("FDB missing: fdb=null");
        if (entries == null) throw new IllegalArgumentException("peer entries missing: entries=null");
        this.config = config;
        this.neighbors = neighbors;
        this.fdb = fdb;
        this.entries = entries;
        this.vxlanHeader = VxlanHeader.WORD_FLAG_I | (long) config.vni() << 8;
        this.ourMac = config.vtepMac().value();
        this.vtepAddress = config.vtepAddress();
        this.port = config.port();
        this.innerMtu = config.innerMtu();
        this.acceptUnknownPeers = config.acceptUnknownPeers();
    }

    /** The configuration this VTEP runs with. */
    public VtepConfig config() {
        return config;
    }

    /** 22: the VXLAN header and the inner Ethernet header; the socket writes the outer IPv4 and UDP headers. */
    @Override
    public int headroom() {
        return VtepConfig.ENCAP_HEADER_LEN;
    }

    /** 50: outer IPv4 20, UDP 8, VXLAN 8, inner Ethernet 14. */
    @Override
    public int overhead() {
        return VtepConfig.OVERHEAD;
    }

    /** True: the headers in front are the same for every packet to a peer, so a TCP super-packet is wrapped whole. */
    @Override
    public boolean encapsulatesSuperPackets() {
        return true;
    }

    /**
     * Resolves {@code nextHop} (the route's gateway) to the peer VTEP's MAC and its FDB endpoint,
     * writes the VXLAN and inner Ethernet headers in front of the packet and sets the peer endpoint.
     *
     * @return {@link #FORWARD}, or the ordinal of {@code NO_NEIGHBOR}, {@code NO_FDB} or {@code NO_ROOM}
     */
    @Override
    public int encap(PacketBuffer packet, int nextHop) {
        long peerMac = neighbors.lookup(nextHop);
        if (peerMac == NeighborTable.MISSING) return DropReason.NO_NEIGHBOR.ordinal();
        long entry = fdb.entry(peerMac);
        if (entry == Fdb.MISSING) {
            // A peer's new VTEP MAC replaces the old one as FDB entry, neighbor switch, old entry gone;
            // a packet that read the neighbor before the switch and the FDB after it asks once more.
            long current = neighbors.lookup(nextHop);
            if (current == peerMac || current == NeighborTable.MISSING) return DropReason.NO_FDB.ordinal();
            peerMac = current;
            entry = fdb.entry(peerMac);
            if (entry == Fdb.MISSING) return DropReason.NO_FDB.ordinal();
        }
        if (!packet.prepend(VtepConfig.ENCAP_HEADER_LEN)) return DropReason.NO_ROOM.ordinal();
        writeHeaders(packet.segment(), packet.offset(), peerMac, EthernetHeader.ETHERTYPE_IPV4);
        int endpoint = Fdb.endpointOf(entry);
        PeerEntry peer = entries.get(Fdb.peerIdOf(entry));
        packet.setPeer(endpoint, port).setPeerEntry(peer != null && peer.endpoint() == endpoint ? peer : null);
        return FORWARD;
    }

    /** The 22 bytes of VXLAN and inner Ethernet header at {@code o}, in three stores. */
    private void writeHeaders(MemorySegment s, long o, long dstMac, int ethertype) {
        s.set(U64, o, vxlanHeader);
        // Destination MAC; the two bytes after it are written again by the next store.
        s.set(U64, o + INNER_ETH + EthernetHeader.DST_MAC, dstMac << 16);
        s.set(U64, o + INNER_ETH + EthernetHeader.SRC_MAC, ourMac << 16 | ethertype);
    }

    /**
     * Validates the VXLAN datagram in {@code packet} (its peer endpoint is where it came from) and
     * trims it to the inner IPv4 packet, or answers an ARP request for our VTEP address in place.
     *
     * @return {@link #FORWARD}, {@link #REPLY} (an ARP reply, peer endpoint set), or a drop reason's
     *     ordinal, see the class comment for which and in what order
     */
    @Override
    public int decap(PacketBuffer packet) {
        int source = packet.peerAddress();
        int id = fdb.peerIdAt(source);
        if (id == AddressSet.ABSENT && !acceptUnknownPeers) return DropReason.UNKNOWN_PEER.ordinal();
        PeerEntry peer = entries.get(id);
        if (peer != null && peer.endpoint() == source) packet.setPeerEntry(peer);
        int length = packet.length();
        if (length < INNER_IP) return DropReason.TRUNCATED.ordinal();
        MemorySegment s = packet.segment();
        int o = packet.offset();
        long header = s.get(U64, o);
        // The kernel's order: the I flag, the device for the VNI, then the reserved bits.
        if ((header & VxlanHeader.WORD_FLAG_I) == 0) return DropReason.VXLAN_BAD_FLAGS.ordinal();
        if ((header & VxlanHeader.WORD_VNI) != (vxlanHeader & VxlanHeader.WORD_VNI)) return DropReason.VXLAN_UNKNOWN_VNI.ordinal();
        if ((header & VxlanHeader.WORD_RESERVED) != 0) return DropReason.VXLAN_BAD_FLAGS.ordinal();
        long dstMac = s.get(U64, o + INNER_ETH + EthernetHeader.DST_MAC) >>> 16;
        int ethertype = Short.toUnsignedInt(s.get(U16, o + INNER_ETH + EthernetHeader.ETHERTYPE));
        if (dstMac != ourMac && !(dstMac == BROADCAST && ethertype == EthernetHeader.ETHERTYPE_ARP)) {
            return DropReason.VXLAN_NOT_OUR_MAC.ordinal();
        }
        if (ethertype == EthernetHeader.ETHERTYPE_IPV4) return unwrapIpv4(packet, s, o, length);
        if (ethertype == EthernetHeader.ETHERTYPE_ARP) return answerArp(packet, s, o, length);
        return DropReason.VXLAN_BAD_ETHERTYPE.ordinal();
    }

    private int unwrapIpv4(PacketBuffer packet, MemorySegment s, int o, int length) {
        // Above 0 only for what wholeSuperPacket found: a UDP super-packet and its datagrams' size.
        int udpSegment = packet.gsoSize();
        Ipv4Header ip = innerIp.wrap(s, o + INNER_IP);
        int bad = ip.validate(length - INNER_IP);
        if (bad != Ipv4Header.VALID) return bad;
        if (!ip.verifyChecksum()) return DropReason.BAD_CHECKSUM.ordinal();
        int totalLength = ip.totalLength();
        int segment = 0;
        if (udpSegment > 0) {
            segment = udpSuperPacketSegment(ip, s, o + INNER_IP, totalLength, udpSegment);
            if (segment <= 0) return DropReason.OVERSIZE.ordinal();
        } else if (totalLength > innerMtu || length - INNER_IP > innerMtu) {
            // Beyond the MTU only a whole super-packet, not a small packet with a long tail.
            if (totalLength > innerMtu) segment = tcpSuperPacketSegment(ip, s, o + INNER_IP, totalLength);
            if (segment <= 0) return DropReason.OVERSIZE.ordinal();
        }
        packet.setData(o + INNER_IP, totalLength);
        packet.setGsoSize(segment);
        if (segment > 0) superPacketsReceived = superPacketsReceived + 1;
        return FORWARD;
    }

    /**
     * The segment size for a TCP super-packet a kernel VTEP sent whole, or 0 if the oversize inner
     * packet at {@code at} is none: TCP, not a fragment, its checksum partial (as the sender's
     * kernel leaves every super-packet's) and with payload beyond its headers. Segments of
     * {@link VtepConfig#innerMtu()} bytes: what the TUN's kernel cuts it into if it has to.
     */
    private int tcpSuperPacketSegment(Ipv4Header ip, MemorySegment s, int at, int totalLength) {
        if (ip.protocol() != Ipv4Header.PROTO_TCP || PartialChecksum.field(s, at, totalLength) < 0) return 0;
        int ihl = ip.headerLength();
        TcpHeader tcp = innerTcp.wrap(s, at + ihl);
        int headers = ihl + tcp.headerLength();
        return tcp.checkLen(totalLength - ihl) && headers < totalLength ? innerMtu - headers : 0;
    }

    /**
     * {@code size}, the datagram payload size the sender cut its UDP super-packet into, if the
     * inner packet at {@code at} is one: UDP, not a fragment, its checksum partial, more than one
     * datagram's payload, and each datagram within {@link VtepConfig#innerMtu()}; 0 otherwise. The
     * datagrams' boundaries are the sender's, so the size is kept as it came.
     */
    private int udpSuperPacketSegment(Ipv4Header ip, MemorySegment s, int at, int totalLength, int size) {
        if (ip.protocol() != Ipv4Header.PROTO_UDP || PartialChecksum.field(s, at, totalLength) < 0) return 0;
        int headers = ip.headerLength() + UdpHeader.HEADER_LEN;
        return totalLength - headers > size && headers + size <= innerMtu ? size : 0;
    }

    /**
     * True if the datagram in {@code received} carries one inner IPv4 packet that spans all of it
     * although the socket reported a GRO size: a kernel VTEP's UDP super-packet (UDP tunnel GSO
     * with {@code SKB_GSO_UDP_L4}, whose GRO size is the inner datagrams' payload size), not a
     * train of VXLAN datagrams, whose first inner packet ends within the first datagram. Reads the
     * inner Ethernet type and IPv4 total length only; {@link #decap} judges the rest.
     */
    @Override
    public boolean wholeSuperPacket(PacketBuffer received) {
        int length = received.length();
        if (length < INNER_IP + Ipv4Header.HEADER_LEN) return false;
        MemorySegment s = received.segment();
        int o = received.offset();
        return Short.toUnsignedInt(s.get(U16, o + INNER_ETH + EthernetHeader.ETHERTYPE)) == EthernetHeader.ETHERTYPE_IPV4
                && Short.toUnsignedInt(s.get(U16, o + INNER_IP + Ipv4Header.TOTAL_LEN)) == length - INNER_IP;
    }

    /**
     * Inner super-packets decapsulated whole so far (a kernel VTEP's TCP or UDP super-packet that
     * crossed a veth as one datagram), each forwarded into the TUN as one. A UDP one also counts
     * among the socket's trains: the kernel handed it up with a GRO size.
     */
    public long superPacketsReceived() {
        return superPacketsReceived;
    }

    /** Turns an ARP request for our VTEP address into the reply, in place; anything else is dropped. */
    private int answerArp(PacketBuffer packet, MemorySegment s, int o, int length) {
        ArpPacket a = arp.wrap(s, o + INNER_IP);
        int bad = a.validate(length - INNER_IP);
        if (bad != ArpPacket.VALID) return bad;
        if (a.operation() != ArpPacket.OP_REQUEST || a.targetAddr() != vtepAddress) return DropReason.VXLAN_ARP_IGNORED.ordinal();
        long requesterMac = a.senderMac();
        // A reply to a group or zero address would go nowhere (or everywhere).
        if ((requesterMac & MULTICAST_BIT) != 0 || requesterMac == 0) return DropReason.VXLAN_ARP_IGNORED.ordinal();
        int requesterAddr = a.senderAddr();
        a.setOperation(ArpPacket.OP_REPLY)
                .setSenderMac(ourMac)
                .setSenderAddr(vtepAddress)
                .setTargetMac(requesterMac)
                .setTargetAddr(requesterAddr);
        writeHeaders(s, o, requesterMac, EthernetHeader.ETHERTYPE_ARP);
        packet.setLength(ARP_FRAME_LEN);
        packet.setPeer(packet.peerAddress(), port);
        return REPLY;
    }

    @Override
    public String toString() {
        return "VxlanEncapsulation[" + config + "]";
    }
}
