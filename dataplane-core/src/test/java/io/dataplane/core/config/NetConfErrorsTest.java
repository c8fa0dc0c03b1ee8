package io.dataplane.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every way a net-conf.json can be wrong, each with the message a user sees. */
class NetConfErrorsTest {
    private static final String FILE = "/etc/kube-flannel/net-conf.json";

    private static ConfigException fails(String json) {
        return assertThrows(ConfigException.class, () -> NetConf.parse(json.getBytes(StandardCharsets.UTF_8), FILE));
    }

    private static String backend(String fields) {
        return "{\"Network\": \"10.244.0.0/16\", \"Backend\": {" + fields + "}}";
    }

    @Test
    void missingFile(@TempDir Path dir) {
        Path file = dir.resolve("net-conf.json");
        ConfigException e = assertThrows(ConfigException.class, () -> NetConf.read(file));
        assertEquals(file + ": file not found", e.getMessage());
    }

    @Test
    void directoryInsteadOfFile(@TempDir Path dir) {
        ConfigException e = assertThrows(ConfigException.class, () -> NetConf.read(dir));
        assertTrue(e.getMessage().startsWith(dir + ": cannot read: "), e.getMessage());
    }

    @Test
    void oversizedFile(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("net-conf.json");
        Files.write(file, new byte[ConfigFiles.MAX_BYTES + 1]);
        ConfigException e = assertThrows(ConfigException.class, () -> NetConf.read(file));
        assertEquals(file + ": file too large: more than 4194304 bytes", e.getMessage());
    }

    @Test
    void badJsonNamesLineAndColumn() {
        ConfigException e = fails("{\n  \"Network\": \"10.244.0.0/16\",\n  \"Backend\": {\"Type\": \"vxlan\",}\n}");
        assertTrue(e.getMessage().startsWith(FILE + ": bad JSON at line 3, column 31: Unexpected character ('}'"), e.getMessage());
    }

    @Test
    void trailingGarbage() {
        ConfigException e = fails("{\"Network\": \"10.244.0.0/16\"} {}");
        assertEquals(FILE + ": bad JSON at line 1, column 30: more content after the end of the top-level value", e.getMessage());
    }

    @Test
    void emptyFile() {
        assertEquals(FILE + ": empty: expected JSON", fails("  \n").getMessage());
    }

    @Test
    void notAnObject() {
        assertEquals(FILE + ": expected a JSON object, got array", fails("[1, 2]").getMessage());
    }

    @Test
    void duplicateKey() {
        ConfigException e = fails("{\"Network\": \"10.244.0.0/16\", \"Network\": \"10.0.0.0/8\"}");
        assertTrue(e.getMessage().startsWith(FILE + ": bad JSON at line 1, column "), e.getMessage());
        assertTrue(e.getMessage().contains("Duplicate field 'Network'"), e.getMessage());
    }

    @Test
    void sameKeyInDifferentCase() {
        assertEquals(FILE + ": Network: given twice: \"Network\" and \"network\"",
                fails("{\"Network\": \"10.244.0.0/16\", \"network\": \"10.0.0.0/8\"}").getMessage());
    }

    @Test
    void networkMissing() {
        assertEquals(FILE + ": Network: missing (the overlay network, e.g. \"10.244.0.0/16\")", fails("{\"SubnetLen\": 24}").getMessage());
    }

    @Test
    void networkWithHostBits() {
        assertEquals(FILE + ": Network: prefix has host bits set: \"10.244.1.0/16\" (did you mean 10.244.0.0/16?)",
                fails("{\"Network\": \"10.244.1.0/16\"}").getMessage());
    }

    @Test
    void networkNotAnAddress() {
        assertEquals(FILE + ": Network: not an IPv4 prefix: \"300.1.1.0/16\" (bad address)", fails("{\"Network\": \"300.1.1.0/16\"}").getMessage());
    }

    @Test
    void networkLengthBeyond32() {
        assertEquals(FILE + ": Network: prefix length out of range: \"10.244.0.0/33\" (0-32)", fails("{\"Network\": \"10.244.0.0/33\"}").getMessage());
    }

    @Test
    void networkNotAString() {
        assertEquals(FILE + ": Network: expected a string, got integer 10", fails("{\"Network\": 10}").getMessage());
    }

    @Test
    void networkTooSmall() {
        assertEquals(FILE + ": Network: Network too small: 10.244.0.0/29 (flannel needs at least a /28, room for four /30 subnets)",
                fails("{\"Network\": \"10.244.0.0/29\"}").getMessage());
    }

    @Test
    void subnetLenBeyond30() {
        assertEquals(FILE + ": SubnetLen: SubnetLen out of range: subnetLen=31 (max 30)",
                fails("{\"Network\": \"10.244.0.0/16\", \"SubnetLen\": 31}").getMessage());
    }

    @Test
    void subnetLenNegative() {
        assertEquals(FILE + ": SubnetLen: SubnetLen out of range: subnetLen=-1 (max 30)",
                fails("{\"Network\": \"10.244.0.0/16\", \"SubnetLen\": -1}").getMessage());
    }

    @Test
    void subnetLenNotLongerThanTheNetwork() {
        assertEquals(FILE + ": SubnetLen: SubnetLen too short for Network 10.244.0.0/16: subnetLen=16"
                + " (min 18: the Network must hold at least four subnets)",
                fails("{\"Network\": \"10.244.0.0/16\", \"SubnetLen\": 16}").getMessage());
    }

    @Test
    void subnetLenAsString() {
        assertEquals(FILE + ": SubnetLen: expected an integer, got string \"24\"",
                fails("{\"Network\": \"10.244.0.0/16\", \"SubnetLen\": \"24\"}").getMessage());
    }

    @Test
    void subnetLenAsFraction() {
        assertEquals(FILE + ": SubnetLen: expected an integer, got number 24.0",
                fails("{\"Network\": \"10.244.0.0/16\", \"SubnetLen\": 24.0}").getMessage());
    }

    @Test
    void subnetMinOutsideTheNetwork() {
        assertEquals(FILE + ": SubnetMin: SubnetMin outside the Network: 10.245.0.0 is not in 10.244.0.0/16",
                fails("{\"Network\": \"10.244.0.0/16\", \"SubnetMin\": \"10.245.0.0\"}").getMessage());
    }

    @Test
    void subnetMaxOutsideTheNetwork() {
        assertEquals(FILE + ": SubnetMax: SubnetMax outside the Network: 10.0.0.0 is not in 10.244.0.0/16",
                fails("{\"Network\": \"10.244.0.0/16\", \"SubnetMax\": \"10.0.0.0\"}").getMessage());
    }

    @Test
    void subnetMinNotOnASubnetBoundary() {
        assertEquals(FILE + ": SubnetMin: SubnetMin is not on a SubnetLen boundary: 10.244.1.7 (SubnetLen 24, did you mean 10.244.1.0?)",
                fails("{\"Network\": \"10.244.0.0/16\", \"SubnetMin\": \"10.244.1.7\"}").getMessage());
    }

    @Test
    void subnetMinNotAnAddress() {
        assertEquals(FILE + ": SubnetMin: not an IPv4 address: \"10.244.1\"",
                fails("{\"Network\": \"10.244.0.0/16\", \"SubnetMin\": \"10.244.1\"}").getMessage());
    }

    @Test
    void subnetMinAboveSubnetMax() {
        assertEquals(FILE + ": SubnetMin: SubnetMin 10.244.9.0 is above SubnetMax 10.244.2.0",
                fails("{\"Network\": \"10.244.0.0/16\", \"SubnetMin\": \"10.244.9.0\", \"SubnetMax\": \"10.244.2.0\"}").getMessage());
    }

    @Test
    void ipv6Enabled() {
        assertEquals(FILE + ": EnableIPv6: IPv6 is not supported: EnableIPv6=true (this dataplane carries IPv4 only)",
                fails("{\"Network\": \"10.244.0.0/16\", \"EnableIPv6\": true, \"IPv6Network\": \"2001:cafe:42::/56\"}").getMessage());
    }

    @Test
    void ipv4Disabled() {
        assertEquals(FILE + ": EnableIPv4: IPv6-only is not supported: EnableIPv4=false (this dataplane carries IPv4 only)",
                fails("{\"EnableIPv4\": false, \"EnableIPv6\": false}").getMessage());
    }

    @Test
    void enableAsString() {
        assertEquals(FILE + ": EnableIPv4: expected true or false, got string \"true\"",
                fails("{\"Network\": \"10.244.0.0/16\", \"EnableIPv4\": \"true\"}").getMessage());
    }

    @Test
    void typoOfAKnownField() {
        assertEquals(FILE + ": Netwrok: unknown field \"Netwrok\": did you mean \"Network\"? (flannel would ignore it and use the default)",
                fails("{\"Network\": \"10.244.0.0/16\", \"Netwrok\": \"10.0.0.0/8\"}").getMessage());
    }

    @Test
    void typoInTheBackend() {
        assertEquals(FILE + ": Backend.VNl: unknown field \"VNl\": did you mean \"VNI\"? (flannel would ignore it and use the default)",
                fails(backend("\"Type\": \"vxlan\", \"VNl\": 2")).getMessage());
    }

    @Test
    void backendNotAnObject() {
        assertEquals(FILE + ": Backend: expected a JSON object, got string", fails("{\"Network\": \"10.244.0.0/16\", \"Backend\": \"vxlan\"}").getMessage());
    }

    @Test
    void backendTypeMissing() {
        assertEquals(FILE + ": Backend.Type: missing (one of udp, vxlan, ipip, wireguard, host-gw, plain)", fails(backend("\"VNI\": 1")).getMessage());
    }

    @Test
    void unknownBackend() {
        assertEquals(FILE + ": Backend.Type: unknown backend type: \"geneve\" (one of udp, vxlan, ipip, wireguard, host-gw, plain)",
                fails(backend("\"Type\": \"geneve\"")).getMessage());
    }

    @Test
    void flannelBackendThisDataplaneDoesNotRun() {
        assertEquals(FILE + ": Backend.Type: unknown backend type: \"ipsec\" (one of udp, vxlan, ipip, wireguard, host-gw, plain)",
                fails(backend("\"Type\": \"ipsec\", \"PSK\": \"x\"")).getMessage());
    }

    @Test
    void vniBeyond24Bits() {
        assertEquals(FILE + ": Backend.VNI: VNI out of range: vni=16777216 (max 16777215)",
                fails(backend("\"Type\": \"vxlan\", \"VNI\": 16777216")).getMessage());
    }

    @Test
    void vniNegative() {
        assertEquals(FILE + ": Backend.VNI: VNI out of range: vni=-1 (min 0)", fails(backend("\"Type\": \"vxlan\", \"VNI\": -1")).getMessage());
    }

    @Test
    void vniBeyondInt() {
        assertEquals(FILE + ": Backend.VNI: VNI out of range: vni=99999999999", fails(backend("\"Type\": \"vxlan\", \"VNI\": 99999999999")).getMessage());
    }

    @Test
    void vniBeyondLong() {
        assertEquals(FILE + ": Backend.VNI: VNI out of range: 123456789012345678901234567890",
                fails(backend("\"Type\": \"vxlan\", \"VNI\": 123456789012345678901234567890")).getMessage());
    }

    @Test
    void udpPortZero() {
        assertEquals(FILE + ": Backend.Port: Port out of range: port=0 (1-65535)", fails(backend("\"Type\": \"udp\", \"Port\": 0")).getMessage());
    }

    @Test
    void vxlanPortBeyond65535() {
        assertEquals(FILE + ": Backend.Port: Port out of range: port=65536 (1-65535)",
                fails(backend("\"Type\": \"vxlan\", \"Port\": 65536")).getMessage());
    }

    @Test
    void wireguardListenPortOutOfRange() {
        assertEquals(FILE + ": Backend.ListenPort: ListenPort out of range: listenPort=70000 (1-65535)",
                fails(backend("\"Type\": \"wireguard\", \"ListenPort\": 70000")).getMessage());
    }

    @Test
    void mtuTooSmallForTheHeaders() {
        assertEquals(FILE + ": Backend.MTU: MTU out of range: mtu=100 (vxlan needs at least 118: 68 inside plus 50 of headers; max 65535)",
                fails(backend("\"Type\": \"vxlan\", \"MTU\": 100")).getMessage());
    }

    @Test
    void mtuBeyond65535() {
        assertEquals(FILE + ": Backend.MTU: MTU out of range: mtu=65536 (udp needs at least 96: 68 inside plus 28 of headers; max 65535)",
                fails(backend("\"Type\": \"udp\", \"MTU\": 65536")).getMessage());
    }

    @Test
    void negativeKeepalive() {
        assertEquals(FILE + ": Backend.PersistentKeepaliveInterval: negative keepalive: -5 (seconds; 0 turns it off)",
                fails(backend("\"Type\": \"wireguard\", \"PersistentKeepaliveInterval\": -5")).getMessage());
    }

    @Test
    void keepaliveBeyond16Bits() {
        assertEquals(FILE + ": Backend.PersistentKeepaliveInterval: keepalive out of range: 65536 (max 65535 seconds)",
                fails(backend("\"Type\": \"wireguard\", \"PersistentKeepaliveInterval\": 65536")).getMessage());
    }

    @Test
    void malformedPskIsNamedButNotShown() {
        String secret = "not-a-key-but-still-secret";
        ConfigException e = fails(backend("\"Type\": \"wireguard\", \"PSK\": \"" + secret + "\""));
        assertEquals(FILE + ": Backend.PSK: not a WireGuard key: expected 44 characters of base64 (32 bytes), got 26 characters"
                + " (value not shown: it is a secret)", e.getMessage());
        assertFalse(e.getMessage().contains(secret));
    }

    @Test
    void booleanAsNumber() {
        assertEquals(FILE + ": Backend.DirectRouting: expected true or false, got integer 1",
                fails(backend("\"Type\": \"vxlan\", \"DirectRouting\": 1")).getMessage());
    }

    @Test
    void overlongStringIsCutInTheMessage() {
        String message = fails("{\"Network\": \"" + "1".repeat(1000) + "\"}").getMessage();
        assertTrue(message.startsWith(FILE + ": Network: too long: 1000 characters (max 256): \"111"), message);
        assertTrue(message.length() < 200, message);
    }

    @Test
    void constructorChecksToo() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> new BackendConf(BackendType.UDP, 5, 8285, false, false, false, 0, null, 0, 0));
        assertEquals("Backend.VNI: does not apply to the udp backend: vni=5", e.getMessage());
    }
}
