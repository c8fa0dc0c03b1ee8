package io.dataplane.tun.netlink;

import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Prefix;
import io.dataplane.core.wire.MacAddress;
import io.dataplane.tun.ErrnoException;
import io.dataplane.tun.InterfaceName;
import io.dataplane.tun.sys.Errno;
import io.dataplane.tun.sys.FdNative;
import io.dataplane.tun.sys.SocketNative;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * rtnetlink ({@code AF_NETLINK}/{@code NETLINK_ROUTE}) for the control plane: links, IPv4
 * addresses, routes, neighbor (ARP) entries and bridge FDB entries: what {@code ip} and
 * {@code bridge} do, and what flanneld does to program {@code flannel.1}:
 *
 * <pre>{@code
 * try (Netlink nl = Netlink.open()) {                    // ip link add flannel.1 type vxlan ... (made elsewhere)
 *     nl.setMtu("flannel.1", 1450); nl.setUp("flannel.1", true);
 *     nl.addAddress("flannel.1", Ipv4Address.parse("10.244.1.0"), 32);
 *     nl.replaceNeighbor("flannel.1", Ipv4Address.parse("10.244.2.0"), peerVtepMac);
 *     nl.appendFdb("flannel.1", peerVtepMac, Ipv4Address.parse("192.0.2.2"));
 *     nl.addRoute(Route.onlink(Ipv4Prefix.parse("10.244.2.0/24"), Ipv4Address.parse("10.244.2.0"), "flannel.1"));
 * }
 * }</pre>
 *
 * <p>The socket belongs to the network namespace of the thread that opens it (open it inside
 * {@code NetNamespace.call} to configure that namespace). Every request waits for the kernel's
 * ack; a refusal is an {@link ErrnoException} naming the request in {@code ip} syntax and the
 * errno, {@code "RTM_NEWROUTE 10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink failed: errno=17
 * (EEXIST)"}, plus the kernel's own words when it gives them. Devices are named; each request
 * looks the name up first, so a missing device fails with ENODEV naming it. Thread-safe: requests
 * are serialized.
 */
public final class Netlink implements AutoCloseable {
    private static final int REQUEST_BUFFER = 4096;
    private final NetlinkSocket socket;
    private final Arena arena = Arena.ofShared();
    private final NetlinkRequest request = new NetlinkRequest(arena.allocate(REQUEST_BUFFER, 8));

    private Netlink(NetlinkSocket socket) {
        this.socket = socket;
    }

    /** Opens an rtnetlink socket in the calling thread's network namespace. */
    public static Netlink open() throws IOException {
        return new Netlink(new NetlinkSocket());
    }

    // ---- links ----

    /**
     * The link called {@code name}.
     *
     * @throws ErrnoException with ENODEV naming the device when there is none
     */
    public synchronized Link link(String name) throws IOException {
        InterfaceName.check(name);
        request.start(Rtnl.RTM_GETLINK, 0);
        request.body(Rtnl.IFINFOMSG);
        request.string(Rtnl.IFLA_IFNAME, name);
        Link[] found = new Link[1];
        send("RTM_GETLINK dev " + name, (type, s, payload, end) -> {
            if (type == Rtnl.RTM_NEWLINK) found[0] = parseLink(s, payload, end, name);
        });
        if (found[0] == null) throw new ErrnoException("RTM_GETLINK dev " + name, Errno.ENODEV, "no reply for the link");
        return found[0];
    }

    /** Every link of the namespace ({@code ip link show}: an RTM_GETLINK dump), in the kernel's order. */
    public synchronized List<Link> links() throws IOException {
        request.start(Rtnl.RTM_GETLINK, Rtnl.NLM_F_DUMP);
        request.body(Rtnl.IFINFOMSG);
        List<Link> found = new ArrayList<>();
        send("RTM_GETLINK dump", (type, s, payload, end) -> {
            Link link = type == Rtnl.RTM_NEWLINK ? parseLink(s, payload, end, null) : null;
            if (link != null) found.add(link);
        });
        return List.copyOf(found);
    }

    /** The interface index of {@code name}; ENODEV naming it when there is none. */
    public int linkIndex(String name) throws IOException {
        return link(name).index();
    }

    /**
     * The link in an RTM_NEWLINK payload {@code [payload, end)}, named {@code fallbackName} when it
     * carries no IFLA_IFNAME; null when the payload is shorter than an ifinfomsg.
     */
    static Link parseLink(MemorySegment s, long payload, long end, String fallbackName) {
        if (end - payload < Rtnl.IFINFOMSG.byteSize()) return null;
        int index = s.get(ValueLayout.JAVA_INT, payload + Rtnl.IFI_INDEX);
        int flags = s.get(ValueLayout.JAVA_INT, payload + Rtnl.IFI_FLAGS);
        long attrs = payload + NetlinkRequest.align((int) Rtnl.IFINFOMSG.byteSize());
        long at = Attributes.find(s, attrs, end, Rtnl.IFLA_IFNAME);
        String ifname = at < 0 ? fallbackName : Attributes.string(s, at);
        at = Attributes.find(s, attrs, end, Rtnl.IFLA_MTU, Integer.BYTES);
        int mtu = at < 0 ? 0 : s.get(ValueLayout.JAVA_INT_UNALIGNED, at);
        at = Attributes.find(s, attrs, end, Rtnl.IFLA_ADDRESS);
        MacAddress mac = at >= 0 && Attributes.payloadLength(s, at) == MacAddress.LENGTH ? new MacAddress(MacAddress.read(s, at)) : null;
        return new Link(index, ifname, mtu, mac, (flags & Rtnl.IFF_UP) != 0);
    }

    /** Sets the MTU of {@code device} ({@code ip link set DEV mtu N}). */
    public synchronized void setMtu(String device, int mtu) throws IOException {
        if (mtu < 68 || mtu > 65535) throw new IllegalArgumentException("MTU out of range: mtu=" + mtu + " (68-65535)");
        int index = index(device);
        linkRequest(index, 0, 0).u32(Rtnl.IFLA_MTU, mtu);
        send("RTM_NEWLINK dev " + device + " mtu " + mtu, null);
    }

    /**
     * Sets the transmit queue length of {@code device} in packets ({@code ip link set DEV txqueuelen
     * N}); for a TUN device, how many packets the kernel queues for the reader before it drops.
     */
    public synchronized void setTxQueueLength(String device, int packets) throws IOException {
        if (packets < 1) throw new IllegalArgumentException("transmit queue length out of range: packets=" + packets + " (min 1)");
        int index = index(device);
        linkRequest(index, 0, 0).u32(Rtnl.IFLA_TXQLEN, packets);
        send("RTM_NEWLINK dev " + device + " txqueuelen " + packets, null);
    }

    /**
     * Sets the most segments of a GSO packet {@code device} takes ({@code ip link set DEV
     * gso_max_segs N}): the kernel segments a longer one before it reaches the device, and a local
     * TCP sender builds none longer.
     */
    public synchronized void setGsoMaxSegments(String device, int segments) throws IOException {
        if (segments < 1 || segments > 65535) {
            throw new IllegalArgumentException("GSO segments out of range: segments=" + segments + " (1-65535)");
        }
        int index = index(device);
        linkRequest(index, 0, 0).u32(Rtnl.IFLA_GSO_MAX_SEGS, segments);
        send("RTM_NEWLINK dev " + device + " gso_max_segs " + segments, null);
    }

    /** Sets the hardware address of {@code device} ({@code ip link set DEV address MAC}). */
    public synchronized void setMac(String device, MacAddress mac) throws IOException {
        int index = index(device);
        linkRequest(index, 0, 0).bytes(Rtnl.IFLA_ADDRESS, mac.toBytes());
        send("RTM_NEWLINK dev " + device + " address " + mac, null);
    }

    /**
     * Turns the kernel's automatic IPv6 link-local address for {@code device} off or on ({@code ip
     * link set DEV addrgenmode none|eui64}). Off before the device goes up, an IPv4-only device
     * never gets a link-local address, and so sends no IPv6 router or neighbor solicitations.
     *
     * @throws ErrnoException with EAFNOSUPPORT when the kernel has no IPv6
     */
    public synchronized void setIpv6LinkLocal(String device, boolean on) throws IOException {
        int index = index(device);
        linkRequest(index, 0, 0);
        long spec = request.startNested(Rtnl.IFLA_AF_SPEC);
        long inet6 = request.startNested(Rtnl.AF_INET6);
        request.u8(Rtnl.IFLA_INET6_ADDR_GEN_MODE, on ? Rtnl.IN6_ADDR_GEN_MODE_EUI64 : Rtnl.IN6_ADDR_GEN_MODE_NONE);
        request.endNested(inet6);
        request.endNested(spec);
        send("RTM_NEWLINK dev " + device + " addrgenmode " + (on ? "eui64" : "none"), null);
    }

    /** Brings {@code device} up or down ({@code ip link set DEV up|down}). */
    public synchronized void setUp(String device, boolean up) throws IOException {
        int index = index(device);
        linkRequest(index, up ? Rtnl.IFF_UP : 0, Rtnl.IFF_UP);
        send("RTM_NEWLINK dev " + device + (up ? " up" : " down"), null);
    }

    /**
     * Creates a veth pair: {@code name} in this namespace, its peer {@code peerName} in the network
     * namespace at {@code peerNamespacePath} ({@code /run/netns/NAME}), both down ({@code ip link add
     * NAME type veth peer name PEER netns NS}).
     *
     * @throws ErrnoException naming the request: EEXIST when either name is taken, ENOENT when there
     *     is no such namespace
     */
    public synchronized void addVeth(String name, String peerName, String peerNamespacePath) throws IOException {
        InterfaceName.check(name);
        InterfaceName.check(peerName);
        int nsFd = FdNative.open(peerNamespacePath, FdNative.O_RDONLY | FdNative.O_CLOEXEC, 0);
        try {
            request.start(Rtnl.RTM_NEWLINK, Rtnl.NLM_F_CREATE | Rtnl.NLM_F_EXCL);
            request.body(Rtnl.IFINFOMSG);
            request.string(Rtnl.IFLA_IFNAME, name);
            long info = request.startNested(Rtnl.IFLA_LINKINFO);
            request.string(Rtnl.IFLA_INFO_KIND, "veth");
            long data = request.startNested(Rtnl.IFLA_INFO_DATA);
            long peer = request.startNested(Rtnl.VETH_INFO_PEER);
            request.body(Rtnl.IFINFOMSG); // the peer's own ifinfomsg, then its attributes
            request.string(Rtnl.IFLA_IFNAME, peerName);
            request.u32(Rtnl.IFLA_NET_NS_FD, nsFd);
            request.endNested(peer).endNested(data).endNested(info);
            send("RTM_NEWLINK " + name + " type veth peer " + peerName + " netns " + peerNamespacePath, null);
        } finally {
            FdNative.close(nsFd);
        }
    }

    private NetlinkRequest linkRequest(int index, int flags, int change) {
        request.start(Rtnl.RTM_NEWLINK, 0);
        long at = request.body(Rtnl.IFINFOMSG);
        MemorySegment s = request.segment();
        s.set(ValueLayout.JAVA_INT, at + Rtnl.IFI_INDEX, index);
        s.set(ValueLayout.JAVA_INT, at + Rtnl.IFI_FLAGS, flags);
        s.set(ValueLayout.JAVA_INT, at + Rtnl.IFI_CHANGE, change);
        return request;
    }

    // ---- addresses ----

    /**
     * Every IPv4 address of the namespace ({@code ip -4 addr show}: an RTM_GETADDR dump), in the
     * kernel's order.
     */
    public synchronized List<Address> addresses() throws IOException {
        request.start(Rtnl.RTM_GETADDR, Rtnl.NLM_F_DUMP);
        long at = request.body(Rtnl.IFADDRMSG);
        request.segment().set(ValueLayout.JAVA_BYTE, at + Rtnl.IFA_FAMILY, (byte) SocketNative.AF_INET);
        List<Address> found = new ArrayList<>();
        send("RTM_GETADDR dump", (type, s, payload, end) -> {
            Address a = type == Rtnl.RTM_NEWADDR ? parseAddress(s, payload, end) : null;
            if (a != null) found.add(a);
        });
        return List.copyOf(found);
    }

    /**
     * The IPv4 address in an RTM_NEWADDR payload {@code [payload, end)}; null for another family,
     * a payload shorter than an ifaddrmsg, or no 4-byte IFA_LOCAL or IFA_ADDRESS.
     */
    static Address parseAddress(MemorySegment s, long payload, long end) {
        if (end - payload < Rtnl.IFADDRMSG.byteSize()) return null;
        if (s.get(ValueLayout.JAVA_BYTE, payload + Rtnl.IFA_FAMILY) != SocketNative.AF_INET) return null;
        int prefixLength = Byte.toUnsignedInt(s.get(ValueLayout.JAVA_BYTE, payload + Rtnl.IFA_PREFIXLEN));
        if (prefixLength > 32) return null;
        int index = s.get(ValueLayout.JAVA_INT, payload + Rtnl.IFA_INDEX);
        long attrs = payload + NetlinkRequest.align((int) Rtnl.IFADDRMSG.byteSize());
        // IFA_LOCAL is the interface's own address; IFA_ADDRESS is the peer's on point-to-point links.
        long a = Attributes.find(s, attrs, end, Rtnl.IFA_LOCAL, Integer.BYTES);
        if (a < 0) a = Attributes.find(s, attrs, end, Rtnl.IFA_ADDRESS, Integer.BYTES);
        if (a < 0) return null;
        int address = s.get(SocketNative.NET_U32, a);
        long l = Attributes.find(s, attrs, end, Rtnl.IFA_LABEL);
        return new Address(index, l < 0 ? null : Attributes.string(s, l), address, prefixLength);
    }

    /** Adds {@code address/prefixLength} to {@code device} ({@code ip addr add A/N dev DEV}); EEXIST if there. */
    public synchronized void addAddress(String device, int address, int prefixLength) throws IOException {
        address(Rtnl.RTM_NEWADDR, Rtnl.NLM_F_CREATE | Rtnl.NLM_F_EXCL, device, address, prefixLength);
    }

    /** Removes {@code address/prefixLength} from {@code device} ({@code ip addr del}); EADDRNOTAVAIL if absent. */
    public synchronized void deleteAddress(String device, int address, int prefixLength) throws IOException {
        address(Rtnl.RTM_DELADDR, 0, device, address, prefixLength);
    }

    private void address(int type, int flags, String device, int address, int prefixLength) throws IOException {
        if (prefixLength < 0 || prefixLength > 32) throw new IllegalArgumentException("prefix length out of range: " + prefixLength + " (0-32)");
        int index = index(device);
        request.start(type, flags);
        long at = request.body(Rtnl.IFADDRMSG);
        MemorySegment s = request.segment();
        s.set(ValueLayout.JAVA_BYTE, at + Rtnl.IFA_FAMILY, (byte) SocketNative.AF_INET);
        s.set(ValueLayout.JAVA_BYTE, at + Rtnl.IFA_PREFIXLEN, (byte) prefixLength);
        s.set(ValueLayout.JAVA_INT, at + Rtnl.IFA_INDEX, index);
        request.ipv4(Rtnl.IFA_LOCAL, address).ipv4(Rtnl.IFA_ADDRESS, address);
        send(Rtnl.typeName(type) + " " + Ipv4Address.toString(address) + "/" + prefixLength + " dev " + device, null);
    }

    // ---- routes ----

    /** Adds {@code route} ({@code ip route add}); EEXIST if a route to that prefix is there. */
    public synchronized void addRoute(Route route) throws IOException {
        route(Rtnl.RTM_NEWROUTE, Rtnl.NLM_F_CREATE | Rtnl.NLM_F_EXCL, route);
    }

    /** Adds or replaces the route to {@code route}'s prefix ({@code ip route replace}). */
    public synchronized void replaceRoute(Route route) throws IOException {
        route(Rtnl.RTM_NEWROUTE, Rtnl.NLM_F_CREATE | Rtnl.NLM_F_REPLACE, route);
    }

    /** Deletes {@code route} ({@code ip route del}); ESRCH if no such route. */
    public synchronized void deleteRoute(Route route) throws IOException {
        route(Rtnl.RTM_DELROUTE, 0, route);
    }

    private void route(int type, int flags, Route route) throws IOException {
        int index = route.device() == null ? 0 : index(route.device());
        request.start(type, flags);
        long at = request.body(Rtnl.RTMSG);
        MemorySegment s = request.segment();
        s.set(ValueLayout.JAVA_BYTE, at + Rtnl.RTM_FAMILY, (byte) SocketNative.AF_INET);
        s.set(ValueLayout.JAVA_BYTE, at + Rtnl.RTM_DST_LEN, (byte) route.destination().length());
        s.set(ValueLayout.JAVA_BYTE, at + Rtnl.RTM_TABLE, (byte) Rtnl.RT_TABLE_MAIN);
        // As iproute2: protocol "boot", scope link for a route without gateway, "nowhere" on delete (matches any).
        s.set(ValueLayout.JAVA_BYTE, at + Rtnl.RTM_PROTOCOL, (byte) Rtnl.RTPROT_BOOT);
        int scope = type == Rtnl.RTM_DELROUTE ? Rtnl.RT_SCOPE_NOWHERE
                : route.gateway() == 0 ? Rtnl.RT_SCOPE_LINK : Rtnl.RT_SCOPE_UNIVERSE;
        s.set(ValueLayout.JAVA_BYTE, at + Rtnl.RTM_SCOPE, (byte) scope);
        s.set(ValueLayout.JAVA_BYTE, at + Rtnl.RTM_TYPE, (byte) Rtnl.RTN_UNICAST);
        s.set(ValueLayout.JAVA_INT, at + Rtnl.RTM_FLAGS, route.onlink() ? Rtnl.RTNH_F_ONLINK : 0);
        request.ipv4(Rtnl.RTA_DST, route.destination().address());
        if (route.gateway() != 0) request.ipv4(Rtnl.RTA_GATEWAY, route.gateway());
        if (index != 0) request.u32(Rtnl.RTA_OIF, index);
        send(Rtnl.typeName(type) + " " + route, null);
    }

    /**
     * The IPv4 unicast routes of the main table ({@code ip route show}: an RTM_GETROUTE dump), in
     * the kernel's order, each with its output device by name. Routes that name neither a gateway
     * nor a device (multipath routes) are left out.
     */
    public synchronized List<Route> routes() throws IOException {
        request.start(Rtnl.RTM_GETROUTE, Rtnl.NLM_F_DUMP);
        long at = request.body(Rtnl.RTMSG);
        request.segment().set(ValueLayout.JAVA_BYTE, at + Rtnl.RTM_FAMILY, (byte) SocketNative.AF_INET);
        List<DumpedRoute> found = new ArrayList<>();
        send("RTM_GETROUTE dump", (type, s, payload, end) -> {
            DumpedRoute r = type == Rtnl.RTM_NEWROUTE ? parseRoute(s, payload, end) : null;
            if (r != null) found.add(r);
        });
        // Names after the dump: a link request would reuse the request buffer in the middle of it.
        Map<Integer, String> names = new HashMap<>();
        for (Link l : links()) names.put(l.index(), l.name());
        List<Route> routes = new ArrayList<>(found.size());
        for (DumpedRoute f : found) {
            String device = names.get(f.oif());
            if (f.gateway() == 0 && device == null) continue;
            routes.add(new Route(Ipv4Prefix.containing(f.destination(), f.length()), f.gateway(), device, f.onlink() && f.gateway() != 0
                    && device != null));
        }
        return List.copyOf(routes);
    }

    /** A route of a dump, its device still an index. */
    record DumpedRoute(int destination, int length, int gateway, int oif, boolean onlink) {}

    /**
     * The IPv4 unicast route of the main table in an RTM_NEWROUTE payload {@code [payload, end)};
     * null for any other route, or a payload shorter than an rtmsg.
     */
    static DumpedRoute parseRoute(MemorySegment s, long payload, long end) {
        if (end - payload < Rtnl.RTMSG.byteSize()) return null;
        if (s.get(ValueLayout.JAVA_BYTE, payload + Rtnl.RTM_FAMILY) != SocketNative.AF_INET) return null;
        if (Byte.toUnsignedInt(s.get(ValueLayout.JAVA_BYTE, payload + Rtnl.RTM_TYPE)) != Rtnl.RTN_UNICAST) return null;
        long attrs = payload + NetlinkRequest.align((int) Rtnl.RTMSG.byteSize());
        // rtm_table holds table ids up to 255; RTA_TABLE, when there, holds the full id.
        long a = Attributes.find(s, attrs, end, Rtnl.RTA_TABLE, Integer.BYTES);
        int table = a >= 0 ? s.get(ValueLayout.JAVA_INT_UNALIGNED, a) : Byte.toUnsignedInt(s.get(ValueLayout.JAVA_BYTE, payload + Rtnl.RTM_TABLE));
        if (table != Rtnl.RT_TABLE_MAIN) return null;
        int length = Byte.toUnsignedInt(s.get(ValueLayout.JAVA_BYTE, payload + Rtnl.RTM_DST_LEN));
        if (length > 32) return null;
        a = Attributes.find(s, attrs, end, Rtnl.RTA_DST, Integer.BYTES);
        int destination = a < 0 ? 0 : s.get(SocketNative.NET_U32, a);
        a = Attributes.find(s, attrs, end, Rtnl.RTA_GATEWAY, Integer.BYTES);
        int gateway = a < 0 ? 0 : s.get(SocketNative.NET_U32, a);
        a = Attributes.find(s, attrs, end, Rtnl.RTA_OIF, Integer.BYTES);
        int oif = a < 0 ? 0 : s.get(ValueLayout.JAVA_INT_UNALIGNED, a);
        boolean onlink = (s.get(ValueLayout.JAVA_INT, payload + Rtnl.RTM_FLAGS) & Rtnl.RTNH_F_ONLINK) != 0;
        return new DumpedRoute(destination, length, gateway, oif, onlink);
    }

    // ---- neighbors (ARP) ----

    /** Adds a permanent neighbor entry ({@code ip neigh add A lladdr MAC dev DEV nud permanent}); EEXIST if there. */
    public synchronized void addNeighbor(String device, int address, MacAddress mac) throws IOException {
        neighbor(Rtnl.RTM_NEWNEIGH, Rtnl.NLM_F_CREATE | Rtnl.NLM_F_EXCL, device, address, mac);
    }

    /** Adds or replaces a permanent neighbor entry ({@code ip neigh replace}, flanneld's NeighSet). */
    public synchronized void replaceNeighbor(String device, int address, MacAddress mac) throws IOException {
        neighbor(Rtnl.RTM_NEWNEIGH, Rtnl.NLM_F_CREATE | Rtnl.NLM_F_REPLACE, device, address, mac);
    }

    /** Deletes the neighbor entry for {@code address} on {@code device} ({@code ip neigh del}). */
    public synchronized void deleteNeighbor(String device, int address) throws IOException {
        neighbor(Rtnl.RTM_DELNEIGH, 0, device, address, null);
    }

    private void neighbor(int type, int flags, String device, int address, MacAddress mac) throws IOException {
        int index = index(device);
        ndmsg(type, flags, SocketNative.AF_INET, index, 0);
        request.ipv4(Rtnl.NDA_DST, address);
        if (mac != null) request.bytes(Rtnl.NDA_LLADDR, mac.toBytes());
        send(Rtnl.typeName(type) + " " + Ipv4Address.toString(address) + (mac != null ? " lladdr " + mac : "")
                + " dev " + device + (type == Rtnl.RTM_NEWNEIGH ? " nud permanent" : ""), null);
    }

    // ---- bridge FDB (a VXLAN device's MAC -> remote VTEP table) ----

    /**
     * Adds a remote {@code dst} for {@code mac} on the VXLAN {@code device}, keeping any others
     * ({@code bridge fdb append MAC dev DEV dst DST}: NTF_SELF, permanent).
     */
    public synchronized void appendFdb(String device, MacAddress mac, int dst) throws IOException {
        fdb(Rtnl.RTM_NEWNEIGH, Rtnl.NLM_F_CREATE | Rtnl.NLM_F_APPEND, device, mac, dst);
    }

    /** Sets {@code dst} as the remote for {@code mac} ({@code bridge fdb replace}, flanneld's NeighSet on AF_BRIDGE). */
    public synchronized void replaceFdb(String device, MacAddress mac, int dst) throws IOException {
        fdb(Rtnl.RTM_NEWNEIGH, Rtnl.NLM_F_CREATE | Rtnl.NLM_F_REPLACE, device, mac, dst);
    }

    /** Deletes the entry for {@code mac} with remote {@code dst} ({@code bridge fdb del MAC dev DEV dst DST}). */
    public synchronized void deleteFdb(String device, MacAddress mac, int dst) throws IOException {
        fdb(Rtnl.RTM_DELNEIGH, 0, device, mac, dst);
    }

    private void fdb(int type, int flags, String device, MacAddress mac, int dst) throws IOException {
        int index = index(device);
        ndmsg(type, flags, SocketNative.AF_BRIDGE, index, Rtnl.NTF_SELF);
        request.bytes(Rtnl.NDA_LLADDR, mac.toBytes());
        request.ipv4(Rtnl.NDA_DST, dst);
        send(Rtnl.typeName(type) + " fdb " + mac + " dev " + device + " dst " + Ipv4Address.toString(dst) + " self"
                + (type == Rtnl.RTM_NEWNEIGH ? " permanent" : ""), null);
    }

    private void ndmsg(int type, int flags, int family, int index, int ntfFlags) {
        request.start(type, flags);
        long at = request.body(Rtnl.NDMSG);
        MemorySegment s = request.segment();
        s.set(ValueLayout.JAVA_BYTE, at + Rtnl.NDM_FAMILY, (byte) family);
        s.set(ValueLayout.JAVA_INT, at + Rtnl.NDM_IFINDEX, index);
        s.set(ValueLayout.JAVA_SHORT, at + Rtnl.NDM_STATE, (short) (type == Rtnl.RTM_NEWNEIGH ? Rtnl.NUD_PERMANENT : 0));
        s.set(ValueLayout.JAVA_BYTE, at + Rtnl.NDM_FLAGS, (byte) ntfFlags);
    }

    // ---- lookups ----

    /**
     * How the kernel routes a datagram to {@code destination} from this host ({@code ip route get
     * A}): the next hop, the interface and the source address it would use.
     *
     * @throws ErrnoException with ENETUNREACH (or EHOSTUNREACH) when no route leads there
     */
    public synchronized RouteLookup routeGet(int destination) throws IOException {
        request.start(Rtnl.RTM_GETROUTE, 0);
        long at = request.body(Rtnl.RTMSG);
        MemorySegment s = request.segment();
        s.set(ValueLayout.JAVA_BYTE, at + Rtnl.RTM_FAMILY, (byte) SocketNative.AF_INET);
        s.set(ValueLayout.JAVA_BYTE, at + Rtnl.RTM_DST_LEN, (byte) 32);
        request.ipv4(Rtnl.RTA_DST, destination);
        RouteLookup[] found = new RouteLookup[1];
        String description = "RTM_GETROUTE " + Ipv4Address.toString(destination);
        send(description, (type, r, payload, end) -> {
            RouteLookup lookup = type == Rtnl.RTM_NEWROUTE ? parseRouteLookup(destination, r, payload, end) : null;
            if (lookup != null) found[0] = lookup;
        });
        if (found[0] == null) throw new ErrnoException(description, Errno.ENETUNREACH, "no route in the reply");
        return found[0];
    }

    /** The answer to an RTM_GETROUTE for {@code destination} in {@code [payload, end)}; null when shorter than an rtmsg. */
    static RouteLookup parseRouteLookup(int destination, MemorySegment r, long payload, long end) {
        if (end - payload < Rtnl.RTMSG.byteSize()) return null;
        int routeType = Byte.toUnsignedInt(r.get(ValueLayout.JAVA_BYTE, payload + Rtnl.RTM_TYPE));
        long attrs = payload + NetlinkRequest.align((int) Rtnl.RTMSG.byteSize());
        long a = Attributes.find(r, attrs, end, Rtnl.RTA_GATEWAY, Integer.BYTES);
        int gateway = a < 0 ? 0 : r.get(SocketNative.NET_U32, a);
        a = Attributes.find(r, attrs, end, Rtnl.RTA_OIF, Integer.BYTES);
        int oif = a < 0 ? 0 : r.get(ValueLayout.JAVA_INT_UNALIGNED, a);
        a = Attributes.find(r, attrs, end, Rtnl.RTA_PREFSRC, Integer.BYTES);
        int source = a < 0 ? 0 : r.get(SocketNative.NET_U32, a);
        return new RouteLookup(destination, gateway, oif, source, routeType == Rtnl.RTN_LOCAL);
    }

    /**
     * The link with interface index {@code index}.
     *
     * @throws ErrnoException with ENODEV naming the index when there is none
     */
    public synchronized Link link(int index) throws IOException {
        if (index <= 0) throw new IllegalArgumentException("interface index out of range: index=" + index + " (1 or more)");
        request.start(Rtnl.RTM_GETLINK, 0);
        long at = request.body(Rtnl.IFINFOMSG);
        request.segment().set(ValueLayout.JAVA_INT, at + Rtnl.IFI_INDEX, index);
        Link[] found = new Link[1];
        send("RTM_GETLINK index " + index, (type, s, payload, end) -> {
            if (type == Rtnl.RTM_NEWLINK) found[0] = parseLink(s, payload, end, null);
        });
        if (found[0] == null) throw new ErrnoException("RTM_GETLINK index " + index, Errno.ENODEV, "no reply for the link");
        return found[0];
    }

    // ---- plumbing ----

    // Looks the device up; the lookup reuses the request buffer, so callers build their request after this.
    private int index(String device) throws IOException {
        return link(device).index();
    }

    private void send(String description, NetlinkSocket.ReplyHandler handler) throws ErrnoException {
        int seq = socket.nextSeq();
        int length = request.finish(seq);
        socket.exchange(request.segment(), length, seq, description,
                handler != null ? handler : (type, s, payload, end) -> {});
    }

    /** Closes the socket. */
    @Override
    public synchronized void close() {
        socket.close();
        arena.close();
    }
}
