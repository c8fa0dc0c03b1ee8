package io.dataplane.core.config;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Base64;
import java.util.List;

/**
 * The {@code Backend} object of flannel's net-conf.json, with flannel's defaults applied.
 *
 * <p>Each field belongs to some backend types only, as in flanneld ({@link BackendType#reads}): a
 * field that does not apply to {@link #type} holds 0, false or null here (and is ignored in the
 * file, as flanneld ignores it). The table is flannel's five backends; a backend another module
 * defines reads the fields its {@link BackendType#define type} names, with its defaults.
 *
 * <table>
 *   <caption>Fields, the backends that read them, and flannel's defaults</caption>
 *   <tr><th>JSON</th><th>backends</th><th>default</th><th>range</th></tr>
 *   <tr><td>VNI</td><td>vxlan</td><td>1</td><td>0-16777215</td></tr>
 *   <tr><td>Port</td><td>udp, vxlan</td><td>udp 8285; vxlan 8472 (flannel leaves 0 to the kernel, whose default is 8472)</td><td>1-65535</td></tr>
 *   <tr><td>GBP, Learning</td><td>vxlan</td><td>false</td><td></td></tr>
 *   <tr><td>DirectRouting</td><td>vxlan, ipip</td><td>false</td><td></td></tr>
 *   <tr><td>MTU</td><td>all but host-gw</td><td>0: the underlay interface's MTU</td><td>68 + overhead to 65535</td></tr>
 *   <tr><td>PSK</td><td>wireguard</td><td>none</td><td>base64 of 32 bytes</td></tr>
 *   <tr><td>ListenPort</td><td>wireguard</td><td>51820</td><td>1-65535</td></tr>
 *   <tr><td>PersistentKeepaliveInterval</td><td>wireguard</td><td>0 (off)</td><td>0-65535 seconds</td></tr>
 * </table>
 * flanneld reads MTU for vxlan and wireguard only; this dataplane also honours it for udp and ipip,
 * where flanneld always takes the interface's MTU.
 *
 * @param type the backend
 * @param vni the VXLAN network identifier
 * @param port the UDP port of the udp and vxlan backends, sent to and listened on
 * @param gbp VXLAN group based policy extension
 * @param directRouting route directly (like host-gw) to peers on the same underlay subnet
 * @param learning VXLAN MAC learning
 * @param mtu the underlay MTU to plan for, 0 for the interface's own
 * @param psk WireGuard pre-shared key (base64), or null for none
 * @param listenPort WireGuard's UDP port
 * @param persistentKeepaliveInterval WireGuard persistent keepalive in seconds, 0 for off
 */
public record BackendConf(BackendType type, int vni, int port, boolean gbp, boolean directRouting, boolean learning,
        int mtu, String psk, int listenPort, int persistentKeepaliveInterval) {

    /** flannel's default VXLAN network identifier. */
    public static final int DEFAULT_VNI = 1;
    /** Largest VNI: the field is 24 bits. */
    public static final int MAX_VNI = (1 << 24) - 1;
    /** flannel's udp backend port. */
    public static final int DEFAULT_UDP_PORT = 8285;
    /** The Linux kernel's VXLAN port, which flannel gets by leaving Port at 0. */
    public static final int DEFAULT_VXLAN_PORT = 8472;
    /** flannel's WireGuard listen port. */
    public static final int DEFAULT_WIREGUARD_PORT = 51820;
    /** The smallest MTU an IPv4 link may have (RFC 791). */
    public static final int MIN_IPV4_MTU = 68;

    /** Every key flannel documents for a Backend, also those of backends or platforms we do not run. */
    static final List<String> FLANNEL_FIELDS = List.of("Type", "VNI", "Port", "GBP", "DirectRouting", "Learning", "MTU",
            "PSK", "ListenPort", "ListenPortV6", "PersistentKeepaliveInterval", "Mode", "MacPrefix", "Name", "UDPEncap",
            "ESPProposal", "AccessKeyID", "AccessKeySecret", "RouteTableID", "PreStartupCommand", "PostStartupCommand",
            "SubnetAddCommand", "SubnetRemoveCommand");

    /**
     * The fields a backend may read besides {@code Type}, one per component of this record; which
     * ones a backend reads is its {@link BackendType}'s to say.
     */
    public static final List<String> FIELDS = List.of("VNI", "Port", "GBP", "Learning", "DirectRouting", "MTU", "PSK", "ListenPort",
            "PersistentKeepaliveInterval");

    /**
     * Checks every field against its backend; throws {@link ConfigException} naming the field
     * ({@code Backend.VNI}) and the value.
     */
    public BackendConf {
        if (type == null) throw new ConfigException(null, "Backend.Type", "missing (one of " + BackendType.names() + ")");
        if (type.reads("VNI")) {
            if (vni < 0) throw bad("VNI", "VNI out of range: vni=" + vni + " (min 0)");
            if (vni > MAX_VNI) throw bad("VNI", "VNI out of range: vni=" + vni + " (max " + MAX_VNI + ")");
        } else {
            notFor(type, "VNI", vni != 0, "vni=" + vni);
        }
        if (!type.reads("GBP")) notFor(type, "GBP", gbp, "true");
        if (!type.reads("Learning")) notFor(type, "Learning", learning, "true");
        if (type.reads("Port")) {
            checkPort("Port", port);
        } else {
            notFor(type, "Port", port != 0, "port=" + port);
        }
        if (!type.reads("DirectRouting")) notFor(type, "DirectRouting", directRouting, "true");
        if (!type.reads("MTU")) {
            notFor(type, "MTU", mtu != 0, "mtu=" + mtu);
        } else if (mtu != 0 && (mtu < MIN_IPV4_MTU + type.overhead() || mtu > 65535)) {
            throw bad("MTU", "MTU out of range: mtu=" + mtu + " (" + type + " needs at least " + (MIN_IPV4_MTU + type.overhead())
                    + ": " + MIN_IPV4_MTU + " inside plus " + type.overhead() + " of headers; max 65535)");
        }
        if (!type.reads("PSK")) {
            notFor(type, "PSK", psk != null, "(set)");
        } else if (psk != null && !isWireguardKey(psk)) {
            throw bad("PSK", "not a WireGuard key: expected 44 characters of base64 (32 bytes), got " + psk.length()
                    + " characters (value not shown: it is a secret)");
        }
        if (type.reads("ListenPort")) {
            checkPort("ListenPort", listenPort);
        } else {
            notFor(type, "ListenPort", listenPort != 0, "listenPort=" + listenPort);
        }
        if (!type.reads("PersistentKeepaliveInterval")) {
            notFor(type, "PersistentKeepaliveInterval", persistentKeepaliveInterval != 0, String.valueOf(persistentKeepaliveInterval));
        } else if (persistentKeepaliveInterval < 0) {
            throw bad("PersistentKeepaliveInterval", "negative keepalive: " + persistentKeepaliveInterval + " (seconds; 0 turns it off)");
        } else if (persistentKeepaliveInterval > 65535) {
            throw bad("PersistentKeepaliveInterval", "keepalive out of range: " + persistentKeepaliveInterval + " (max 65535 seconds)");
        }
    }

    /** flannel's defaults for {@code type} (its {@link BackendType#fields}): what an empty {@code {"Type": ...}} object means. */
    public static BackendConf defaults(BackendType type) {
        return new BackendConf(type, type.defaultOf("VNI"), type.defaultOf("Port"), type.defaultOf("GBP") != 0,
                type.defaultOf("DirectRouting") != 0, type.defaultOf("Learning") != 0, type.defaultOf("MTU"), null,
                type.defaultOf("ListenPort"), type.defaultOf("PersistentKeepaliveInterval"));
    }

    /** This configuration with {@code mtu} as the underlay MTU (0 for the interface's). */
    public BackendConf withMtu(int mtu) {
        return new BackendConf(type, vni, port, gbp, directRouting, learning, mtu, psk, listenPort, persistentKeepaliveInterval);
    }

    /** The UDP port the tunnel uses on the underlay: ListenPort where the backend reads it, else Port (0 for ipip and host-gw). */
    public int udpPort() {
        return type.reads("ListenPort") ? listenPort : port;
    }

    /**
     * The MTU for the TUN device and for FLANNEL_MTU: the underlay MTU ({@link #mtu} when set,
     * otherwise {@code interfaceMtu}) minus this backend's overhead.
     *
     * @throws IllegalArgumentException when that leaves less than IPv4's minimum of 68
     */
    public int innerMtu(int interfaceMtu) {
        int underlay = mtu != 0 ? mtu : interfaceMtu;
        int inner = underlay - type.overhead();
        if (inner < MIN_IPV4_MTU) {
            throw new IllegalArgumentException("underlay MTU too small for " + type + ": " + underlay + " - " + type.overhead()
                    + " = " + inner + " (min " + MIN_IPV4_MTU + ")");
        }
        return inner;
    }

    /** Reads the Backend object (null when the file has none: flanneld then runs udp). */
    static BackendConf fromJson(JsonFields json) {
        if (json == null) return defaults(BackendType.UDP);
        json.rejectTypos(FLANNEL_FIELDS);
        String typeName = json.string("Type");
        if (typeName == null) throw json.error("Type", "missing (one of " + BackendType.names() + ")");
        BackendType type;
        try {
            type = BackendType.of(typeName);
        } catch (IllegalArgumentException e) {
            throw json.error("Type", e.getMessage());
        }
        BackendConf d = defaults(type);
        int vni = type.reads("VNI") ? toInt(json, "VNI", json.integer("VNI", d.vni)) : 0;
        int port = 0;
        if (type.reads("Port")) {
            port = toInt(json, "Port", json.integer("Port", d.port));
            // flanneld hands vxlan's Port 0 to the kernel, which then uses its default 8472.
            if (type.equals(BackendType.VXLAN) && port == 0) port = DEFAULT_VXLAN_PORT;
        }
        boolean gbp = type.reads("GBP") && json.bool("GBP", d.gbp);
        boolean learning = type.reads("Learning") && json.bool("Learning", d.learning);
        boolean directRouting = type.reads("DirectRouting") && json.bool("DirectRouting", d.directRouting);
        int mtu = type.reads("MTU") ? toInt(json, "MTU", json.integer("MTU", d.mtu)) : 0;
        String psk = type.reads("PSK") ? json.string("PSK") : null;
        if (psk != null && psk.isEmpty()) psk = null; // flanneld treats "" as no PSK
        int listenPort = type.reads("ListenPort") ? toInt(json, "ListenPort", json.integer("ListenPort", d.listenPort)) : 0;
        int keepalive = type.reads("PersistentKeepaliveInterval")
                ? toInt(json, "PersistentKeepaliveInterval", json.integer("PersistentKeepaliveInterval", d.persistentKeepaliveInterval))
                : 0;
        return new BackendConf(type, vni, port, gbp, directRouting, learning, mtu, psk, listenPort, keepalive);
    }

    /** The Backend object as flannel writes it: the type and the fields it reads, those that are off or none left out. */
    ObjectNode toJson() {
        ObjectNode o = JsonFields.NODES.objectNode();
        o.put("Type", type.flannelName());
        if (type.reads("VNI")) o.put("VNI", vni);
        if (type.reads("Port")) o.put("Port", port);
        if (gbp) o.put("GBP", true);
        if (learning) o.put("Learning", true);
        if (directRouting) o.put("DirectRouting", true);
        if (type.reads("ListenPort")) o.put("ListenPort", listenPort);
        if (psk != null) o.put("PSK", psk);
        if (persistentKeepaliveInterval != 0) o.put("PersistentKeepaliveInterval", persistentKeepaliveInterval);
        if (mtu != 0) o.put("MTU", mtu);
        return o;
    }

    /** The fields, with the PSK masked: this string ends up in logs. */
    @Override
    public String toString() {
        return "BackendConf[type=" + type + ", vni=" + vni + ", port=" + port + ", gbp=" + gbp + ", directRouting=" + directRouting
                + ", learning=" + learning + ", mtu=" + mtu + ", psk=" + (psk == null ? "none" : "(set)") + ", listenPort=" + listenPort
                + ", persistentKeepaliveInterval=" + persistentKeepaliveInterval + "]";
    }

    /** True if {@code text} is a WireGuard key as wg(8) prints it: base64 of exactly 32 bytes. */
    static boolean isWireguardKey(String text) {
        if (text.length() != 44 || text.charAt(43) != '=') return false;
        try {
            return Base64.getDecoder().decode(text).length == 32;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private static int toInt(JsonFields json, String name, long value) {
        // Anything beyond int is out of every field's range; say so with the value as written.
        if (value != (int) value) throw json.error(name, name + " out of range: " + label(name) + "=" + value);
        return (int) value;
    }

    private static void checkPort(String name, int port) {
        if (port < 1 || port > 65535) {
            throw bad(name, name + " out of range: " + label(name) + "=" + port + " (1-65535)");
        }
    }

    private static void notFor(BackendType type, String name, boolean set, String value) {
        if (set) throw bad(name, "does not apply to the " + type + " backend: " + value);
    }

    /** How a value is named in a message: {@code vni=}, {@code listenPort=}. */
    private static String label(String name) {
        return name.equals(name.toUpperCase(java.util.Locale.ROOT))
                ? name.toLowerCase(java.util.Locale.ROOT)
                : Character.toLowerCase(name.charAt(0)) + name.substring(1);
    }

    private static ConfigException bad(String name, String detail) {
        return new ConfigException(null, "Backend." + name, detail);
    }
}
