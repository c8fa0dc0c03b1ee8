package io.dataplane.core.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Prefix;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * A node's lease as flannel publishes it (etcd's {@code subnets/} values, the node annotations of
 * the kube subnet manager) with its subnet added: what another node needs to reach that subnet.
 *
 * <pre>{@code
 * {"Subnet": "10.244.2.0/24", "PublicIP": "192.0.2.2", "BackendType": "vxlan",
 *  "BackendData": {"VNI": 1, "VtepMAC": "22:e8:35:88:1e:9a"}}
 * }</pre>
 *
 * <p>BackendData is kept as raw JSON, as flannel keeps it ({@code json.RawMessage}); it is checked
 * when the lease is made, and {@link #vxlan()} and {@link #wireguard()} give its typed form.
 * vxlan needs {@code VNI} and {@code VtepMAC}, wireguard {@code PublicKey} (and {@code Port});
 * udp, ipip and host-gw need none; a backend another module defines reads its own when it adds the
 * peer. A missing BackendType means udp: flanneld's udp backend
 * publishes none. A node's {@code peers.json} is a JSON array of these ({@link #parseList}).
 *
 * @param subnet the peer's subnet
 * @param publicIp the peer's underlay address (see {@link Ipv4Address})
 * @param backendType the peer's backend
 * @param backendData the backend's data as compact JSON object text, or null when there is none
 */
public record Lease(Ipv4Prefix subnet, int publicIp, BackendType backendType, String backendData) {

    /** The file in a node's configuration directory that holds its peers' leases. */
    public static final String PEERS_FILE_NAME = "peers.json";

    private static final List<String> FIELDS = List.of("Subnet", "PublicIP", "BackendType", "BackendData", "PublicIPv6",
            "BackendV6Data", "IPv6Subnet", "EnableIPv4", "EnableIPv6", "Expiration", "Asof");

    /** Checks every field, BackendData against the backend type; throws {@link ConfigException}. */
    public Lease {
        if (subnet == null) throw new ConfigException(null, "Subnet", "missing");
        if (publicIp == 0 || publicIp == -1 || (publicIp >>> 28) == 0xe) {
            throw new ConfigException(null, "PublicIP", "not a unicast address: " + Ipv4Address.toString(publicIp));
        }
        if (backendType == null) throw new ConfigException(null, "BackendType", "missing");
        if (backendData != null) {
            JsonFields data = dataFields(backendData);
            backendData = data.toString();
            typed(backendType, data);
        } else if (backendType.equals(BackendType.VXLAN)) {
            throw new ConfigException(null, "BackendData", "missing: a vxlan lease needs {\"VNI\": ..., \"VtepMAC\": ...}");
        } else if (backendType.equals(BackendType.WIREGUARD)) {
            throw new ConfigException(null, "BackendData", "missing: a wireguard lease needs {\"PublicKey\": ..., \"Port\": ...}");
        }
    }

    /** A vxlan lease. */
    public static Lease vxlan(Ipv4Prefix subnet, int publicIp, VxlanLeaseData data) {
        return new Lease(subnet, publicIp, BackendType.VXLAN, JsonFields.write(data.toJson()));
    }

    /** A wireguard lease. */
    public static Lease wireguard(Ipv4Prefix subnet, int publicIp, WireguardLeaseData data) {
        return new Lease(subnet, publicIp, BackendType.WIREGUARD, JsonFields.write(data.toJson()));
    }

    /** A lease of a backend that carries no data (udp, ipip, host-gw). */
    public static Lease of(Ipv4Prefix subnet, int publicIp, BackendType type) {
        return new Lease(subnet, publicIp, type, null);
    }

    /**
     * The VTEP of a vxlan lease.
     *
     * @throws IllegalStateException when this is not a vxlan lease
     */
    public VxlanLeaseData vxlan() {
        if (!backendType.equals(BackendType.VXLAN)) throw new IllegalStateException("not a vxlan lease: " + this);
        return (VxlanLeaseData) typed(backendType, dataFields(backendData));
    }

    /**
     * The key and port of a wireguard lease.
     *
     * @throws IllegalStateException when this is not a wireguard lease
     */
    public WireguardLeaseData wireguard() {
        if (!backendType.equals(BackendType.WIREGUARD)) throw new IllegalStateException("not a wireguard lease: " + this);
        return (WireguardLeaseData) typed(backendType, dataFields(backendData));
    }

    /** The lease as one line of JSON, the form {@link #parse} and flannel read. */
    public String toJson() {
        ObjectNode o = JsonFields.NODES.objectNode();
        o.put("Subnet", subnet.toString());
        o.put("PublicIP", Ipv4Address.toString(publicIp));
        o.put("BackendType", backendType.flannelName());
        String json = JsonFields.write(o);
        // BackendData is already compact JSON text: splice it in rather than parse it again.
        return backendData == null ? json : json.substring(0, json.length() - 1) + ",\"BackendData\":" + backendData + "}";
    }

    /**
     * The lease's attributes as flanneld stores them as the value of its key in etcd
     * ({@code <prefix>/subnets/10.244.3.0-24}), byte for byte as Go's encoding/json writes
     * flannel's {@code LeaseAttrs}: fields in its order, {@code PublicIPv6} null (IPv4 only),
     * {@code BackendType} and {@code BackendData} left out when empty, as its udp backend leaves
     * them, BackendData compact.
     *
     * <pre>{@code {"PublicIP":"192.0.2.1","PublicIPv6":null,"BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"0a:58:0a:f4:03:00"}}}</pre>
     */
    public String toFlannelAttrs() {
        StringBuilder sb = new StringBuilder(160).append("{\"PublicIP\":\"").append(Ipv4Address.toString(publicIp)).append("\",\"PublicIPv6\":null");
        if (!backendType.equals(BackendType.UDP)) sb.append(",\"BackendType\":\"").append(backendType.flannelName()).append('"');
        if (backendData != null) sb.append(",\"BackendData\":").append(backendData);
        return sb.append('}').toString();
    }

    /**
     * Reads the value flanneld stores under a subnet key ({@link #toFlannelAttrs}'s form, from
     * any flannel version) as the lease of {@code subnet}.
     *
     * @param subnet the subnet the key names
     * @param json the value's bytes (UTF-8)
     * @param source the key, for messages
     * @throws ConfigException naming the key, the field and the value, and nothing else
     */
    public static Lease fromFlannelAttrs(Ipv4Prefix subnet, byte[] json, String source) {
        JsonNode tree = JsonFields.parse(json, source);
        if (!(tree instanceof ObjectNode attrs)) {
            throw new ConfigException(source, null, "expected a JSON object, got " + JsonFields.kind(tree));
        }
        attrs.put("Subnet", subnet.toString());
        return fromJson(JsonFields.of(attrs, "", source));
    }

    /** Parses one lease object (no file name in messages). */
    public static Lease parse(String json) {
        return fromJson(JsonFields.parseObject(json.getBytes(StandardCharsets.UTF_8), null));
    }

    /** Reads {@code file}, a JSON array of leases (a node's peers.json). */
    public static List<Lease> readList(Path file) {
        return parseList(ConfigFiles.read(file), file.toString());
    }

    /**
     * Parses a JSON array of leases. Besides each lease's own checks, no two subnets may overlap:
     * a destination would then have two next hops.
     *
     * @param json the file's bytes (UTF-8)
     * @param source the file name for messages, or null
     * @return the leases in file order, unmodifiable
     * @throws ConfigException on any problem (field paths such as {@code [2].BackendData.VtepMAC}), and nothing else
     */
    public static List<Lease> parseList(byte[] json, String source) {
        ArrayNode array = JsonFields.parseArray(json, source);
        List<Lease> leases = new ArrayList<>(array.size());
        for (int i = 0; i < array.size(); i++) {
            try {
                leases.add(fromJson(JsonFields.of(array.get(i), "", source)));
            } catch (ConfigException e) {
                throw e.withSource(source).under("[" + i + "]");
            }
        }
        checkOverlaps(leases, source);
        return Collections.unmodifiableList(leases);
    }

    private static Lease fromJson(JsonFields j) {
        j.rejectTypos(FIELDS);
        String subnetText = j.string("Subnet");
        if (subnetText == null) throw j.error("Subnet", "missing (the peer's subnet, e.g. \"10.244.2.0/24\")");
        Ipv4Prefix subnet;
        try {
            subnet = Ipv4Prefix.parse(subnetText);
        } catch (IllegalArgumentException e) {
            throw j.error("Subnet", e.getMessage());
        }
        String ipText = j.string("PublicIP");
        if (ipText == null) throw j.error("PublicIP", "missing (the peer's underlay address)");
        int publicIp;
        try {
            publicIp = Ipv4Address.parse(ipText);
        } catch (IllegalArgumentException e) {
            throw j.error("PublicIP", e.getMessage());
        }
        String typeText = j.string("BackendType");
        BackendType type;
        try {
            type = typeText == null || typeText.isEmpty() ? BackendType.UDP : BackendType.of(typeText);
        } catch (IllegalArgumentException e) {
            throw j.error("BackendType", e.getMessage());
        }
        JsonFields data = j.object("BackendData");
        if (data != null) typed(type, data);
        try {
            return new Lease(subnet, publicIp, type, data == null ? null : data.toString());
        } catch (ConfigException e) {
            throw e.withSource(j.source());
        }
    }

    /**
     * The typed BackendData of {@code type}, checked: vxlan's and wireguard's; null for the others,
     * whose backend reads the data when it adds the peer, as flannel's backends do.
     */
    private static Record typed(BackendType type, JsonFields data) {
        if (type.equals(BackendType.VXLAN)) return VxlanLeaseData.fromJson(data);
        if (type.equals(BackendType.WIREGUARD)) return WireguardLeaseData.fromJson(data);
        return null;
    }

    private static JsonFields dataFields(String backendData) {
        JsonNode tree;
        try {
            tree = JsonFields.parse(backendData.getBytes(StandardCharsets.UTF_8), null);
        } catch (ConfigException e) {
            throw new ConfigException(null, "BackendData", e.detail());
        }
        return JsonFields.of(tree, "BackendData", null);
    }

    private static void checkOverlaps(List<Lease> leases, String source) {
        Integer[] order = new Integer[leases.size()];
        for (int i = 0; i < order.length; i++) order[i] = i;
        Arrays.sort(order, (a, b) -> Integer.compareUnsigned(leases.get(a).subnet.address(), leases.get(b).subnet.address()));
        // Sorted by first address, a subnet overlaps another only if it starts inside the widest
        // subnet seen so far: prefixes nest or are disjoint.
        int widest = -1;
        for (int k = 0; k < order.length; k++) {
            int i = order[k];
            Ipv4Prefix s = leases.get(i).subnet;
            if (widest >= 0 && leases.get(widest).subnet.contains(s.address())) {
                int first = Math.min(i, widest);
                int second = Math.max(i, widest);
                throw new ConfigException(source, "[" + second + "].Subnet", "subnet overlaps another lease's: "
                        + leases.get(second).subnet + " and " + leases.get(first).subnet + " ([" + first + "].Subnet)");
            }
            if (widest < 0 || Integer.compareUnsigned(s.lastAddress(), leases.get(widest).subnet.lastAddress()) > 0) widest = i;
        }
    }

    /** The lease with its public IP as dotted quad. */
    @Override
    public String toString() {
        return "Lease[subnet=" + subnet + ", publicIp=" + Ipv4Address.toString(publicIp) + ", backendType=" + backendType
                + ", backendData=" + backendData + "]";
    }
}
