package io.dataplane.core.config;

import io.dataplane.core.spi.BackendProvider;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.Set;

/**
 * A backend type as net-conf.json's {@code Backend.Type} and a lease's {@code BackendType} name it,
 * with what flannel's files need to know of it: its overhead on the wire, and which of the {@code
 * Backend} object's fields it reads ({@link BackendConf}) with their defaults.
 *
 * <p>flannel's five backends are constants here, because every node reads their files (a
 * control plane lists the leases of a network whatever the backends installed). Any other backend
 * {@linkplain #define defines} its type in its {@link BackendProvider}, and {@link #of} finds it
 * among the providers on the class path: a new backend is its module and its registration.
 * Two types are equal when their names are; flannel's five are the only instances of their names,
 * so {@code ==} tells them apart as well.
 */
public final class BackendType implements Comparable<BackendType> {

    /** Raw inner IPv4 packet as the payload of a UDP datagram (flannel "udp", port 8285). */
    public static final BackendType UDP = builtIn(0, "udp", 28, Map.of("Port", BackendConf.DEFAULT_UDP_PORT, "MTU", 0));
    /** VXLAN, RFC 7348, as flannel's {@code flannel.1} device (VNI 1, port 8472). */
    public static final BackendType VXLAN = builtIn(1, "vxlan", 50, Map.of("VNI", BackendConf.DEFAULT_VNI, "Port",
            BackendConf.DEFAULT_VXLAN_PORT, "GBP", 0, "Learning", 0, "DirectRouting", 0, "MTU", 0));
    /** IP-in-IP, IP protocol 4 ({@code flannel.ipip}). */
    public static final BackendType IPIP = builtIn(2, "ipip", 20, Map.of("DirectRouting", 0, "MTU", 0));
    /** WireGuard on UDP 51820 ({@code flannel-wg}). */
    public static final BackendType WIREGUARD = builtIn(3, "wireguard", 80, Map.of("MTU", 0, "PSK", 0, "ListenPort",
            BackendConf.DEFAULT_WIREGUARD_PORT, "PersistentKeepaliveInterval", 0));
    /** No encapsulation: kernel routes to the peers' public IPs. */
    public static final BackendType HOST_GW = builtIn(4, "host-gw", 0, Map.of());

    private static final List<BackendType> BUILT_IN = List.of(UDP, VXLAN, IPIP, WIREGUARD, HOST_GW);

    private final int rank;
    private final String flannelName;
    private final int overhead;
    private final Map<String, Integer> fields;

    private BackendType(int rank, String flannelName, int overhead, Map<String, Integer> fields) {
        this.rank = rank;
        this.flannelName = flannelName;
        this.overhead = overhead;
        this.fields = fields;
    }

    private static BackendType builtIn(int rank, String name, int overhead, Map<String, Integer> fields) {
        return new BackendType(rank, name, overhead, ordered(fields));
    }

    private static Map<String, Integer> ordered(Map<String, Integer> fields) {
        Map<String, Integer> ordered = new LinkedHashMap<>();
        for (String f : BackendConf.FIELDS) {
            if (fields.containsKey(f)) ordered.put(f, fields.get(f));
        }
        return Collections.unmodifiableMap(ordered);
    }

    /**
     * The type of a backend flannel's files do not know, for its provider to pass to {@link
     * BackendProvider}'s constructor.
     *
     * @param name its name in net-conf.json and in leases: lower case, not one of flannel's five
     * @param overhead bytes the tunnel adds on the wire, outer headers included (0 for none)
     * @param fields the {@code Backend} fields it reads besides {@code Type} (of {@link
     *     BackendConf#FIELDS}), each with its default: an int, or 0 for false or none
     * @throws IllegalArgumentException naming the value that does not fit
     */
    public static BackendType define(String name, int overhead, Map<String, Integer> fields) {
        if (name == null || name.isEmpty() || !name.equals(name.toLowerCase(Locale.ROOT))) {
            throw new IllegalArgumentException("backend type name not lower case: " + (name == null ? "null" : JsonFields.show(name)));
        }
        for (BackendType t : BUILT_IN) {
            if (t.flannelName.equals(name)) throw new IllegalArgumentException("backend type name taken by flannel's " + name + " backend");
        }
        if (overhead < 0 || overhead > 65535 - BackendConf.MIN_IPV4_MTU) {
            throw new IllegalArgumentException("overhead out of range: overhead=" + overhead + " (0-" + (65535 - BackendConf.MIN_IPV4_MTU) + ")");
        }
        for (String f : fields.keySet()) {
            if (!BackendConf.FIELDS.contains(f)) {
                throw new IllegalArgumentException("not a Backend field: " + JsonFields.show(f) + " (one of " + String.join(", ", BackendConf.FIELDS) + ")");
            }
        }
        return new BackendType(BUILT_IN.size(), name, overhead, ordered(fields));
    }

    /** The name in flannel's files ({@code host-gw}). */
    public String flannelName() {
        return flannelName;
    }

    /**
     * Bytes the tunnel adds on the wire, outer headers included (flannel's encapOverhead): the inner
     * MTU is the underlay MTU minus this.
     */
    public int overhead() {
        return overhead;
    }

    /** True if this backend reads the {@code Backend} field {@code name} ({@code VNI}); no other may be set. */
    public boolean reads(String name) {
        return fields.containsKey(name);
    }

    /** The Backend fields this backend reads besides {@code Type}, in {@link BackendConf#FIELDS} order. */
    public Set<String> fields() {
        return fields.keySet();
    }

    /** The default of the field {@code name}: 0 for false, none, or a field this backend does not read. */
    int defaultOf(String name) {
        return fields.getOrDefault(name, 0);
    }

    /** flannel's five backends, in the order of their constants. */
    public static List<BackendType> builtIn() {
        return BUILT_IN;
    }

    /** flannel's five backends, then those the providers on the class path define, by name. */
    public static List<BackendType> known() {
        return Known.TYPES;
    }

    /** The known types, looked up on the class path once, when first asked for. */
    private static final class Known {
        static final List<BackendType> TYPES = load();

        private static List<BackendType> load() {
            List<BackendType> all = new ArrayList<>(BUILT_IN);
            for (BackendProvider p : ServiceLoader.load(BackendProvider.class)) {
                if (!all.contains(p.type())) all.add(p.type());
            }
            all.sort(null);
            return List.copyOf(all);
        }
    }

    /**
     * The type named {@code name}, ignoring case as flanneld does ({@code "VXLAN"} is vxlan): one of
     * flannel's five, or one a provider on the class path defines.
     *
     * @throws IllegalArgumentException naming the value and the known types, also for flannel
     *     backends this dataplane does not implement (alloc, extension, ipsec, cloud routes)
     */
    public static BackendType of(String name) {
        if (name != null) {
            String lower = name.toLowerCase(Locale.ROOT);
            for (BackendType t : known()) {
                if (t.flannelName.equals(lower)) return t;
            }
        }
        throw new IllegalArgumentException("unknown backend type: " + (name == null ? "null" : JsonFields.show(name)) + " (one of " + names() + ")");
    }

    /** The known types' names, for messages: {@code udp, vxlan, ipip, wireguard, host-gw}. */
    static String names() {
        return String.join(", ", known().stream().map(BackendType::flannelName).toList());
    }

    /** flannel's five first, in the order of their constants, then the others by name. */
    @Override
    public int compareTo(BackendType other) {
        int byRank = Integer.compare(rank, other.rank);
        return byRank != 0 ? byRank : flannelName.compareTo(other.flannelName);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof BackendType t && t.flannelName.equals(flannelName);
    }

    @Override
    public int hashCode() {
        return flannelName.hashCode();
    }

    @Override
    public String toString() {
        return flannelName;
    }
}
