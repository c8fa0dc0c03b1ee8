package io.dataplane.core.config;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Prefix;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

/**
 * flannel's network configuration, {@code net-conf.json}, with flannel's defaults applied.
 *
 * <pre>{@code
 * {
 *   "Network": "10.244.0.0/16",
 *   "SubnetLen": 24,
 *   "SubnetMin": "10.244.1.0",
 *   "SubnetMax": "10.244.255.0",
 *   "Backend": {"Type": "vxlan", "VNI": 1, "Port": 8472}
 * }
 * }</pre>
 *
 * <p>Defaults, as flanneld's {@code CheckNetworkConfig} computes them: SubnetLen is 24 when the
 * Network is a /22 or larger, otherwise the Network's length plus 2 (a Network longer than /28 is
 * refused); SubnetMin is the Network's second subnet (the first would hold the Network's own
 * address) and SubnetMax its last. Without a Backend object flanneld runs the udp backend
 * (flannel's documentation says vxlan; its code says udp, and the code is what runs).
 *
 * <p>Keys are read as flanneld's Go decoder reads them: case-insensitively, {@code null} meaning
 * absent, unknown keys ignored except near misses of known ones (see {@link JsonFields}).
 * IPv4 only: {@code EnableIPv6: true} or {@code EnableIPv4: false} is refused; the IPv6 fields
 * are otherwise accepted and ignored, as flanneld ignores them while IPv6 is off. Stricter than
 * flanneld, a Network with host bits ({@code 10.244.1.0/16}) is refused instead of silently
 * becoming {@code 10.244.0.0/16}.
 *
 * @param network the whole overlay network
 * @param subnetLen the prefix length of each node's subnet
 * @param subnetMin the first subnet a node may lease
 * @param subnetMax the last subnet a node may lease
 * @param backend how packets travel between nodes
 */
public record NetConf(Ipv4Prefix network, int subnetLen, Ipv4Prefix subnetMin, Ipv4Prefix subnetMax, BackendConf backend) {

    /** The usual file name. */
    public static final String FILE_NAME = "net-conf.json";
    /** Longest SubnetLen: a node's subnet needs room for its gateway and at least one pod. */
    public static final int MAX_SUBNET_LEN = 30;

    /** Every top-level key flannel knows, so that near misses of them can be told from typos. */
    private static final List<String> FLANNEL_FIELDS = List.of("Network", "SubnetLen", "SubnetMin", "SubnetMax", "EnableIPv4",
            "EnableIPv6", "EnableNFTables", "IPv6Network", "IPv6SubnetLen", "IPv6SubnetMin", "IPv6SubnetMax", "Backend");

    /** Checks flannel's rules; throws {@link ConfigException} naming the field and the value. */
    public NetConf {
        if (network == null) throw new ConfigException(null, "Network", "missing");
        checkSubnetLen(null, network, subnetLen);
        checkBound(null, "SubnetMin", subnetMin, network, subnetLen);
        checkBound(null, "SubnetMax", subnetMax, network, subnetLen);
        if (Integer.compareUnsigned(subnetMin.address(), subnetMax.address()) > 0) {
            throw new ConfigException(null, "SubnetMin", "SubnetMin " + Ipv4Address.toString(subnetMin.address())
                    + " is above SubnetMax " + Ipv4Address.toString(subnetMax.address()));
        }
        if (backend == null) throw new ConfigException(null, "Backend", "missing");
    }

    /** {@code network} with flannel's default SubnetLen, SubnetMin and SubnetMax. */
    public static NetConf of(Ipv4Prefix network, BackendConf backend) {
        if (network == null) throw new ConfigException(null, "Network", "missing");
        return withDefaults(null, network, defaultSubnetLen(null, network), 0, 0, backend);
    }

    /** Reads and checks {@code file}. */
    public static NetConf read(Path file) {
        return parse(ConfigFiles.read(file), file.toString());
    }

    /** Parses and checks the text of a net-conf.json (no file name in messages). */
    public static NetConf parse(String json) {
        return parse(json.getBytes(StandardCharsets.UTF_8), null);
    }

    /**
     * Parses and checks a net-conf.json.
     *
     * @param json the file's bytes (UTF-8)
     * @param source the file name for messages, or null
     * @throws ConfigException on any problem, and nothing else
     */
    public static NetConf parse(byte[] json, String source) {
        JsonFields j = JsonFields.parseObject(json, source);
        j.rejectTypos(FLANNEL_FIELDS);
        if (j.bool("EnableIPv6", false)) {
            throw j.error("EnableIPv6", "IPv6 is not supported: EnableIPv6=true (this dataplane carries IPv4 only)");
        }
        if (!j.bool("EnableIPv4", true)) {
            throw j.error("EnableIPv4", "IPv6-only is not supported: EnableIPv4=false (this dataplane carries IPv4 only)");
        }
        String networkText = j.string("Network");
        if (networkText == null) throw j.error("Network", "missing (the overlay network, e.g. \"10.244.0.0/16\")");
        Ipv4Prefix network;
        try {
            network = Ipv4Prefix.parse(networkText);
        } catch (IllegalArgumentException e) {
            throw j.error("Network", e.getMessage());
        }
        long len = j.integer("SubnetLen", 0);
        int subnetLen;
        if (len == 0) {
            subnetLen = defaultSubnetLen(source, network);
        } else {
            if (len < 0 || len > MAX_SUBNET_LEN) {
                throw j.error("SubnetLen", "SubnetLen out of range: subnetLen=" + len + " (max " + MAX_SUBNET_LEN + ")");
            }
            subnetLen = (int) len;
            checkSubnetLen(source, network, subnetLen);
        }
        int min = address(j, "SubnetMin", network, subnetLen);
        int max = address(j, "SubnetMax", network, subnetLen);
        BackendConf backend;
        try {
            backend = BackendConf.fromJson(j.object("Backend"));
        } catch (ConfigException e) {
            throw e.withSource(source);
        }
        return withDefaults(source, network, subnetLen, min, max, backend);
    }

    /**
     * True if {@code subnet} is one this configuration hands out: SubnetLen long and between
     * SubnetMin and SubnetMax.
     */
    public boolean isLeasable(Ipv4Prefix subnet) {
        return subnet.length() == subnetLen
                && Integer.compareUnsigned(subnet.address(), subnetMin.address()) >= 0
                && Integer.compareUnsigned(subnet.address(), subnetMax.address()) <= 0;
    }

    /** This configuration as a net-conf.json that flanneld and {@link #parse} read back to an equal value. */
    public String toJson() {
        ObjectNode o = JsonFields.NODES.objectNode();
        o.put("Network", network.toString());
        o.put("SubnetLen", subnetLen);
        o.put("SubnetMin", Ipv4Address.toString(subnetMin.address()));
        o.put("SubnetMax", Ipv4Address.toString(subnetMax.address()));
        o.set("Backend", backend.toJson());
        return JsonFields.write(o, true) + "\n";
    }

    private static NetConf withDefaults(String source, Ipv4Prefix network, int subnetLen, int min, int max, BackendConf backend) {
        long subnetSize = 1L << (32 - subnetLen);
        // flanneld skips the first subnet: a node holding it would own the Network's own address.
        if (min == 0) min = (int) (Integer.toUnsignedLong(network.address()) + subnetSize);
        if (max == 0) max = (int) (Integer.toUnsignedLong(network.address()) + network.size() - subnetSize);
        try {
            return new NetConf(network, subnetLen, new Ipv4Prefix(min, subnetLen), new Ipv4Prefix(max, subnetLen), backend);
        } catch (ConfigException e) {
            throw e.withSource(source);
        }
    }

    /** flanneld's default: /24 subnets where they fit four times over, else the Network split in four. */
    private static int defaultSubnetLen(String source, Ipv4Prefix network) {
        if (network.length() > 28) {
            throw new ConfigException(source, "Network", "Network too small: " + network + " (flannel needs at least a /28,"
                    + " room for four /30 subnets)");
        }
        return network.length() <= 22 ? 24 : network.length() + 2;
    }

    private static void checkSubnetLen(String source, Ipv4Prefix network, int subnetLen) {
        if (subnetLen < 1 || subnetLen > MAX_SUBNET_LEN) {
            throw new ConfigException(source, "SubnetLen", "SubnetLen out of range: subnetLen=" + subnetLen + " (max " + MAX_SUBNET_LEN + ")");
        }
        if (subnetLen < network.length() + 2) {
            throw new ConfigException(source, "SubnetLen", "SubnetLen too short for Network " + network + ": subnetLen=" + subnetLen
                    + " (min " + (network.length() + 2) + ": the Network must hold at least four subnets)");
        }
    }

    private static void checkBound(String source, String name, Ipv4Prefix subnet, Ipv4Prefix network, int subnetLen) {
        if (subnet == null) throw new ConfigException(source, name, "missing");
        if (subnet.length() != subnetLen) {
            throw new ConfigException(source, name, name + " " + subnet + " is not a /" + subnetLen + " (SubnetLen)");
        }
        if (!network.contains(subnet)) {
            throw new ConfigException(source, name, name + " outside the Network: " + Ipv4Address.toString(subnet.address())
                    + " is not in " + network);
        }
    }

    /** SubnetMin or SubnetMax as an address, 0 when absent (flanneld: "0.0.0.0" means absent too). */
    private static int address(JsonFields j, String name, Ipv4Prefix network, int subnetLen) {
        String text = j.string(name);
        if (text == null) return 0;
        int a;
        try {
            a = Ipv4Address.parse(text);
        } catch (IllegalArgumentException e) {
            throw j.error(name, e.getMessage());
        }
        if (a == 0) return 0;
        if (!network.contains(a)) {
            throw j.error(name, name + " outside the Network: " + text + " is not in " + network);
        }
        if ((a & ~Ipv4Prefix.mask(subnetLen)) != 0) {
            throw j.error(name, name + " is not on a SubnetLen boundary: " + text + " (SubnetLen " + subnetLen + ", did you mean "
                    + Ipv4Address.toString(a & Ipv4Prefix.mask(subnetLen)) + "?)");
        }
        return a;
    }
}
