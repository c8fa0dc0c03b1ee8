package io.dataplane.core.config;

import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Prefix;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * flannel's {@code subnet.env}: the overlay network, this node's subnet, the MTU for pods and
 * whether to masquerade, as {@code KEY=VALUE} lines that shells and the flannel CNI plugin source.
 *
 * <pre>
 * FLANNEL_NETWORK=10.244.0.0/16
 * FLANNEL_SUBNET=10.244.1.1/24
 * FLANNEL_MTU=1450
 * FLANNEL_IPMASQ=false
 * </pre>
 *
 * <p><b>FLANNEL_SUBNET</b>: flanneld writes the subnet's first address with the prefix length
 * ({@code 10.244.1.1/24}; the CNI plugin and Docker use that address as the bridge's), and so does
 * {@link #format}. Reading accepts that form, the network address ({@code 10.244.1.0/24}) and any
 * other address inside the subnet; the record holds the subnet itself.
 *
 * <p>Reading follows the dotenv format flanneld reads it with: blank lines and {@code #} comments,
 * an optional {@code export} prefix, values optionally in single or double quotes. Keys other than
 * these four (FLANNEL_IPV6_NETWORK and the like) are ignored; a key given twice is an error.
 * FLANNEL_NETWORK and FLANNEL_SUBNET are required; a missing FLANNEL_MTU reads as 0 (take it from
 * the backend) and a missing FLANNEL_IPMASQ as false.
 *
 * @param network the whole overlay network
 * @param subnet this node's subnet (host bits clear)
 * @param mtu the MTU of the overlay for pods, 0 when not given
 * @param ipMasq whether traffic leaving the overlay is masqueraded
 */
public record SubnetEnv(Ipv4Prefix network, Ipv4Prefix subnet, int mtu, boolean ipMasq) {

    /** The usual file name. */
    public static final String FILE_NAME = "subnet.env";

    /** Checks that the subnet lies in the network and the MTU is one IPv4 allows. */
    public SubnetEnv {
        if (network == null) throw new ConfigException(null, "FLANNEL_NETWORK", "missing");
        if (subnet == null) throw new ConfigException(null, "FLANNEL_SUBNET", "missing");
        if (!network.contains(subnet) || subnet.length() == network.length()) {
            throw new ConfigException(null, "FLANNEL_SUBNET", "subnet outside the network: " + subnet + " is not a subnet of "
                    + network + " (FLANNEL_NETWORK)");
        }
        if (subnet.length() > NetConf.MAX_SUBNET_LEN) {
            throw new ConfigException(null, "FLANNEL_SUBNET", "subnet too small: " + subnet + " (at most /" + NetConf.MAX_SUBNET_LEN
                    + ": it needs a gateway and a host)");
        }
        if (mtu != 0 && (mtu < BackendConf.MIN_IPV4_MTU || mtu > 65535)) {
            throw new ConfigException(null, "FLANNEL_MTU", "MTU out of range: mtu=" + mtu + " (" + BackendConf.MIN_IPV4_MTU + "-65535)");
        }
    }

    /** The subnet's first address, which flanneld writes into FLANNEL_SUBNET and gives the node's bridge. */
    public int firstAddress() {
        return subnet.address() + 1;
    }

    /** Reads and checks {@code file}. */
    public static SubnetEnv read(Path file) {
        return parse(ConfigFiles.read(file), file.toString());
    }

    /** Parses and checks the text of a subnet.env (no file name in messages). */
    public static SubnetEnv parse(String text) {
        return parse(text.getBytes(StandardCharsets.UTF_8), null);
    }

    /**
     * Parses and checks a subnet.env.
     *
     * @param bytes the file's bytes (UTF-8)
     * @param source the file name for messages, or null
     * @throws ConfigException on any problem, and nothing else
     */
    public static SubnetEnv parse(byte[] bytes, String source) {
        Map<String, String> values = new HashMap<>();
        Map<String, Integer> lineOf = new HashMap<>();
        String[] lines = new String(bytes, StandardCharsets.UTF_8).split("\r?\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (line.isEmpty() || line.startsWith("#")) continue;
            if (line.startsWith("export ")) line = line.substring("export ".length()).stripLeading();
            int eq = line.indexOf('=');
            String where = "line " + (i + 1);
            if (eq <= 0) throw new ConfigException(source, where, "expected KEY=VALUE, got " + JsonFields.show(line));
            String key = line.substring(0, eq).strip();
            if (!key.chars().allMatch(c -> c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) {
                throw new ConfigException(source, where, "not a variable name: " + JsonFields.show(key));
            }
            String value = unquote(source, where, line.substring(eq + 1).strip());
            Integer previous = lineOf.putIfAbsent(key, i + 1);
            if (previous != null) {
                throw new ConfigException(source, key, key + " given twice: on line " + previous + " and line " + (i + 1));
            }
            values.put(key, value);
        }
        Ipv4Prefix network = prefix(source, "FLANNEL_NETWORK", values.get("FLANNEL_NETWORK"));
        String subnetText = values.get("FLANNEL_SUBNET");
        if (subnetText == null) throw new ConfigException(source, "FLANNEL_SUBNET", "missing");
        Ipv4Prefix subnet = subnet(source, subnetText);
        int mtu = mtu(source, values.get("FLANNEL_MTU"));
        boolean ipMasq = bool(source, "FLANNEL_IPMASQ", values.get("FLANNEL_IPMASQ"));
        try {
            return new SubnetEnv(network, subnet, mtu, ipMasq);
        } catch (ConfigException e) {
            throw e.withSource(source);
        }
    }

    /** The file as flanneld writes it: four lines, FLANNEL_SUBNET as the first address (FLANNEL_MTU only when set). */
    public String format() {
        StringBuilder sb = new StringBuilder();
        sb.append("FLANNEL_NETWORK=").append(network).append('\n');
        sb.append("FLANNEL_SUBNET=").append(Ipv4Address.toString(firstAddress())).append('/').append(subnet.length()).append('\n');
        if (mtu != 0) sb.append("FLANNEL_MTU=").append(mtu).append('\n');
        sb.append("FLANNEL_IPMASQ=").append(ipMasq).append('\n');
        return sb.toString();
    }

    /**
     * Writes {@link #format()} to {@code file} atomically (a temporary file renamed over it, as
     * flanneld does), creating its directory.
     */
    public void write(Path file) {
        ConfigFiles.writeAtomically(file, format().getBytes(StandardCharsets.UTF_8));
    }

    private static String unquote(String source, String where, String v) {
        if (v.length() >= 1 && (v.charAt(0) == '"' || v.charAt(0) == '\'')) {
            char q = v.charAt(0);
            if (v.length() < 2 || v.charAt(v.length() - 1) != q) {
                throw new ConfigException(source, where, "unterminated quote: " + JsonFields.show(v));
            }
            return v.substring(1, v.length() - 1);
        }
        // dotenv: an unquoted value ends at " #", the start of a comment.
        int comment = v.indexOf(" #");
        return comment < 0 ? v : v.substring(0, comment).strip();
    }

    private static Ipv4Prefix prefix(String source, String key, String text) {
        if (text == null) throw new ConfigException(source, key, "missing");
        try {
            return Ipv4Prefix.parse(text);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(source, key, e.getMessage());
        }
    }

    /** FLANNEL_SUBNET: an address inside the subnet and the length; host bits allowed and cleared. */
    private static Ipv4Prefix subnet(String source, String text) {
        int slash = text.indexOf('/');
        if (slash < 0) {
            throw new ConfigException(source, "FLANNEL_SUBNET", "expected address/length like 10.244.1.1/24, got " + JsonFields.show(text));
        }
        int address;
        try {
            address = Ipv4Address.parse(text.substring(0, slash));
        } catch (IllegalArgumentException e) {
            throw new ConfigException(source, "FLANNEL_SUBNET", e.getMessage());
        }
        String len = text.substring(slash + 1);
        if (len.isEmpty() || len.length() > 2 || !len.chars().allMatch(c -> c >= '0' && c <= '9')
                || (len.length() == 2 && len.charAt(0) == '0') || Integer.parseInt(len) > 32) {
            throw new ConfigException(source, "FLANNEL_SUBNET", "bad prefix length: " + JsonFields.show(text) + " (0-32)");
        }
        return Ipv4Prefix.containing(address, Integer.parseInt(len));
    }

    private static int mtu(String source, String text) {
        if (text == null) return 0;
        if (text.isEmpty() || text.length() > 5 || !text.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw new ConfigException(source, "FLANNEL_MTU", "not a number: " + JsonFields.show(text));
        }
        int mtu = Integer.parseInt(text);
        if (mtu == 0) throw new ConfigException(source, "FLANNEL_MTU", "MTU out of range: mtu=0 (" + BackendConf.MIN_IPV4_MTU + "-65535)");
        return mtu;
    }

    /** Go's strconv.ParseBool, which is what reads FLANNEL_IPMASQ on the other side. */
    private static boolean bool(String source, String key, String text) {
        if (text == null) return false;
        return switch (text) {
            case "1", "t", "T", "true", "TRUE", "True" -> true;
            case "0", "f", "F", "false", "FALSE", "False" -> false;
            default -> throw new ConfigException(source, key, "expected true or false, got " + JsonFields.show(text));
        };
    }
}
