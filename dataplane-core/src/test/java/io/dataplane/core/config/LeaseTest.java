package io.dataplane.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Prefix;
import io.dataplane.core.wire.MacAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Leases and peers.json: flannel's lease JSON with the subnet added. */
class LeaseTest {
    private static final String FILE = "/etc/dataplane/peers.json";
    /** A WireGuard public key as wg(8) prints one: base64 of 32 bytes. */
    private static final String KEY = "GZ3iyh2mBMTZ5ldCKVZ4lAi1gsVHYo5P1uYmzBYHR2E=";

    private static ConfigException fails(String json) {
        return assertThrows(ConfigException.class, () -> Lease.parseList(json.getBytes(StandardCharsets.UTF_8), FILE));
    }

    /** A vxlan peer, its lease as flanneld writes it. */
    @Test
    void vxlanPeer() {
        List<Lease> peers = Lease.parseList("""
                [{"Subnet":"10.244.2.0/24","PublicIP":"192.0.2.2","BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"22:e8:35:88:1e:9a"}}]
                """.getBytes(StandardCharsets.UTF_8), FILE);
        assertEquals(1, peers.size());
        Lease peer = peers.get(0);
        assertEquals(Ipv4Prefix.parse("10.244.2.0/24"), peer.subnet());
        assertEquals(Ipv4Address.parse("192.0.2.2"), peer.publicIp());
        assertEquals(BackendType.VXLAN, peer.backendType());
        assertEquals("{\"VNI\":1,\"VtepMAC\":\"22:e8:35:88:1e:9a\"}", peer.backendData());
        assertEquals(new VxlanLeaseData(1, MacAddress.parse("22:e8:35:88:1e:9a")), peer.vxlan());
    }

    @Test
    void wireguardPeer() {
        Lease peer = Lease.parse("""
                {"Subnet": "10.244.3.0/24", "PublicIP": "192.0.2.3", "BackendType": "wireguard",
                 "BackendData": {"PublicKey": "%s", "Port": 51820}}
                """.formatted(KEY));
        assertEquals(new WireguardLeaseData(KEY, 51820), peer.wireguard());
        assertThrows(IllegalStateException.class, peer::vxlan);
    }

    @Test
    void wireguardPortMayBeMissingAsInOlderFlannel() {
        Lease peer = Lease.parse("{\"Subnet\": \"10.244.3.0/24\", \"PublicIP\": \"192.0.2.3\", \"BackendType\": \"wireguard\","
                + " \"BackendData\": {\"PublicKey\": \"" + KEY + "\"}}");
        assertEquals(0, peer.wireguard().port());
    }

    @Test
    void udpPeerNeedsNoDataAndNoTypeMeansUdp() {
        List<Lease> peers = Lease.parseList("""
                [{"Subnet": "10.244.4.0/24", "PublicIP": "192.0.2.4", "BackendType": "udp"},
                 {"Subnet": "10.244.5.0/24", "PublicIP": "192.0.2.5"},
                 {"Subnet": "10.244.6.0/24", "PublicIP": "192.0.2.6", "BackendType": "host-gw", "BackendData": null}]
                """.getBytes(StandardCharsets.UTF_8), FILE);
        assertEquals(List.of(BackendType.UDP, BackendType.UDP, BackendType.HOST_GW), peers.stream().map(Lease::backendType).toList());
        assertNull(peers.get(1).backendData());
    }

    @Test
    void flannelsOtherLeaseFieldsAreIgnored() {
        Lease peer = Lease.parse("""
                {"Subnet": "10.244.2.0/24", "PublicIP": "192.0.2.2", "PublicIPv6": null, "BackendType": "vxlan",
                 "BackendData": {"VNI": 1, "VtepMAC": "22:e8:35:88:1e:9a"}, "BackendV6Data": null,
                 "Expiration": "2026-11-21T05:00:00Z", "Owner": "node-2"}
                """);
        assertEquals(1, peer.vxlan().vni());
    }

    @Test
    void toJsonReadsBackEqual() {
        Lease vxlan = Lease.vxlan(Ipv4Prefix.parse("10.244.2.0/24"), Ipv4Address.parse("192.0.2.2"),
                new VxlanLeaseData(1, MacAddress.parse("22:e8:35:88:1e:9a")));
        assertEquals("{\"Subnet\":\"10.244.2.0/24\",\"PublicIP\":\"192.0.2.2\",\"BackendType\":\"vxlan\","
                + "\"BackendData\":{\"VNI\":1,\"VtepMAC\":\"22:e8:35:88:1e:9a\"}}", vxlan.toJson());
        Lease wg = Lease.wireguard(Ipv4Prefix.parse("10.244.3.0/24"), Ipv4Address.parse("192.0.2.3"), new WireguardLeaseData(KEY, 51821));
        Lease udp = Lease.of(Ipv4Prefix.parse("10.244.4.0/24"), Ipv4Address.parse("127.0.0.1"), BackendType.UDP);
        for (Lease l : List.of(vxlan, wg, udp)) assertEquals(l, Lease.parse(l.toJson()));
        String list = "[" + vxlan.toJson() + "," + wg.toJson() + "," + udp.toJson() + "]";
        assertEquals(List.of(vxlan, wg, udp), Lease.parseList(list.getBytes(StandardCharsets.UTF_8), null));
    }

    @Test
    void emptyListIsNoPeers(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("peers.json");
        Files.writeString(file, "[]\n");
        assertEquals(List.of(), Lease.readList(file));
    }

    @Test
    void missingFile(@TempDir Path dir) {
        Path file = dir.resolve("peers.json");
        assertEquals(file + ": file not found", assertThrows(ConfigException.class, () -> Lease.readList(file)).getMessage());
    }

    @Test
    void badJson() {
        assertEquals(FILE + ": bad JSON at line 2, column 1: Unexpected end-of-input: expected close marker for Array (start marker at"
                + " line 1, column 1)",
                fails("[{\"Subnet\": \"10.244.2.0/24\", \"PublicIP\": \"192.0.2.2\"}\n").getMessage());
    }

    @Test
    void notAnArray() {
        assertEquals(FILE + ": expected a JSON array, got object", fails("{\"Subnet\": \"10.244.2.0/24\"}").getMessage());
    }

    @Test
    void elementNotAnObject() {
        assertEquals(FILE + ": [1]: expected a JSON object, got string",
                fails("[{\"Subnet\": \"10.244.2.0/24\", \"PublicIP\": \"192.0.2.2\"}, \"10.244.3.0/24\"]").getMessage());
    }

    @Test
    void subnetMissing() {
        assertEquals(FILE + ": [0].Subnet: missing (the peer's subnet, e.g. \"10.244.2.0/24\")", fails("[{\"PublicIP\": \"192.0.2.2\"}]").getMessage());
    }

    @Test
    void subnetWithHostBits() {
        assertEquals(FILE + ": [0].Subnet: prefix has host bits set: \"10.244.2.1/24\" (did you mean 10.244.2.0/24?)",
                fails("[{\"Subnet\": \"10.244.2.1/24\", \"PublicIP\": \"192.0.2.2\"}]").getMessage());
    }

    @Test
    void publicIpMissing() {
        assertEquals(FILE + ": [0].PublicIP: missing (the peer's underlay address)", fails("[{\"Subnet\": \"10.244.2.0/24\"}]").getMessage());
    }

    @Test
    void publicIpMalformed() {
        assertEquals(FILE + ": [0].PublicIP: not an IPv4 address: \"192.0.2.300\"",
                fails("[{\"Subnet\": \"10.244.2.0/24\", \"PublicIP\": \"192.0.2.300\"}]").getMessage());
    }

    @Test
    void publicIpNotUnicast() {
        assertEquals(FILE + ": [0].PublicIP: not a unicast address: 239.1.1.1",
                fails("[{\"Subnet\": \"10.244.2.0/24\", \"PublicIP\": \"239.1.1.1\"}]").getMessage());
    }

    @Test
    void unknownBackendType() {
        assertEquals(FILE + ": [0].BackendType: unknown backend type: \"gre\" (one of udp, vxlan, ipip, wireguard, host-gw, plain)",
                fails("[{\"Subnet\": \"10.244.2.0/24\", \"PublicIP\": \"192.0.2.2\", \"BackendType\": \"gre\"}]").getMessage());
    }

    @Test
    void vxlanWithoutBackendData() {
        assertEquals(FILE + ": [0].BackendData: missing: a vxlan lease needs {\"VNI\": ..., \"VtepMAC\": ...}",
                fails("[{\"Subnet\": \"10.244.2.0/24\", \"PublicIP\": \"192.0.2.2\", \"BackendType\": \"vxlan\"}]").getMessage());
    }

    @Test
    void backendDataNotAnObject() {
        assertEquals(FILE + ": [0].BackendData: expected a JSON object, got array",
                fails("[{\"Subnet\": \"10.244.2.0/24\", \"PublicIP\": \"192.0.2.2\", \"BackendType\": \"vxlan\", \"BackendData\": []}]").getMessage());
    }

    private static String vxlanData(String data) {
        return "[{\"Subnet\": \"10.244.2.0/24\", \"PublicIP\": \"192.0.2.2\"},"
                + " {\"Subnet\": \"10.244.3.0/24\", \"PublicIP\": \"192.0.2.3\", \"BackendType\": \"vxlan\", \"BackendData\": " + data + "}]";
    }

    @Test
    void vtepMacMalformed() {
        assertEquals(FILE + ": [1].BackendData.VtepMAC: not a MAC address: \"22:e8:35:88:1e\" (expected six hex octets like 22:e8:35:88:1e:9a)",
                fails(vxlanData("{\"VNI\": 1, \"VtepMAC\": \"22:e8:35:88:1e\"}")).getMessage());
    }

    @Test
    void vtepMacMulticast() {
        assertEquals(FILE + ": [1].BackendData.VtepMAC: not a unicast MAC address: 01:00:5e:00:00:01",
                fails(vxlanData("{\"VNI\": 1, \"VtepMAC\": \"01:00:5e:00:00:01\"}")).getMessage());
    }

    @Test
    void vtepMacMissing() {
        assertEquals(FILE + ": [1].BackendData.VtepMAC: missing (the peer VTEP's MAC address, e.g. \"22:e8:35:88:1e:9a\")",
                fails(vxlanData("{\"VNI\": 1}")).getMessage());
    }

    @Test
    void vniOutOfRange() {
        assertEquals(FILE + ": [1].BackendData.VNI: VNI out of range: vni=16777216 (max 16777215)",
                fails(vxlanData("{\"VNI\": 16777216, \"VtepMAC\": \"22:e8:35:88:1e:9a\"}")).getMessage());
    }

    @Test
    void vniMissing() {
        assertEquals(FILE + ": [1].BackendData.VNI: missing (the peer's VXLAN network identifier, e.g. 1)",
                fails(vxlanData("{\"VtepMAC\": \"22:e8:35:88:1e:9a\"}")).getMessage());
    }

    @Test
    void typoInBackendData() {
        assertEquals(FILE + ": [1].BackendData.VtepMC: unknown field \"VtepMC\": did you mean \"VtepMAC\"?"
                + " (flannel would ignore it and use the default)",
                fails(vxlanData("{\"VNI\": 1, \"VtepMC\": \"22:e8:35:88:1e:9a\"}")).getMessage());
    }

    @Test
    void sameKeyInDifferentCaseInBackendData() {
        assertEquals(FILE + ": [1].BackendData.VtepMAC: given twice: \"VtepMAC\" and \"VtepMac\"",
                fails(vxlanData("{\"VNI\": 1, \"VtepMAC\": \"22:e8:35:88:1e:9a\", \"VtepMac\": \"22:e8:35:88:1e:9b\"}")).getMessage());
    }

    @Test
    void wireguardKeyMalformed() {
        assertEquals(FILE + ": [0].BackendData.PublicKey: not a WireGuard key: \"abc\" (expected 44 characters of base64, 32 bytes)",
                fails("[{\"Subnet\": \"10.244.2.0/24\", \"PublicIP\": \"192.0.2.2\", \"BackendType\": \"wireguard\","
                        + " \"BackendData\": {\"PublicKey\": \"abc\", \"Port\": 51820}}]").getMessage());
    }

    @Test
    void wireguardPortOutOfRange() {
        assertEquals(FILE + ": [0].BackendData.Port: Port out of range: port=65536 (1-65535, or 0 for ours)",
                fails("[{\"Subnet\": \"10.244.2.0/24\", \"PublicIP\": \"192.0.2.2\", \"BackendType\": \"wireguard\","
                        + " \"BackendData\": {\"PublicKey\": \"" + KEY + "\", \"Port\": 65536}}]").getMessage());
    }

    @Test
    void overlappingSubnets() {
        assertEquals(FILE + ": [2].Subnet: subnet overlaps another lease's: 10.244.2.128/25 and 10.244.2.0/24 ([0].Subnet)",
                fails("[{\"Subnet\": \"10.244.2.0/24\", \"PublicIP\": \"192.0.2.2\"}, {\"Subnet\": \"10.244.3.0/24\", \"PublicIP\": \"192.0.2.3\"},"
                        + " {\"Subnet\": \"10.244.2.128/25\", \"PublicIP\": \"192.0.2.4\"}]").getMessage());
    }

    @Test
    void sameSubnetTwice() {
        assertEquals(FILE + ": [1].Subnet: subnet overlaps another lease's: 10.244.2.0/24 and 10.244.2.0/24 ([0].Subnet)",
                fails("[{\"Subnet\": \"10.244.2.0/24\", \"PublicIP\": \"192.0.2.2\"}, {\"Subnet\": \"10.244.2.0/24\", \"PublicIP\": \"192.0.2.3\"}]")
                        .getMessage());
    }

    @Test
    void disjointSubnetsAfterAWideOneAreFine() {
        List<Lease> peers = Lease.parseList(("[{\"Subnet\": \"10.244.0.0/23\", \"PublicIP\": \"192.0.2.2\"},"
                + " {\"Subnet\": \"10.244.4.0/24\", \"PublicIP\": \"192.0.2.3\"}, {\"Subnet\": \"10.244.2.0/24\", \"PublicIP\": \"192.0.2.4\"}]")
                .getBytes(StandardCharsets.UTF_8), FILE);
        assertEquals(3, peers.size());
    }

    @Test
    void constructorChecksBackendData() {
        ConfigException e = assertThrows(ConfigException.class, () -> new Lease(Ipv4Prefix.parse("10.244.2.0/24"),
                Ipv4Address.parse("192.0.2.2"), BackendType.VXLAN, "{\"VNI\": 1, \"VtepMAC\": \"zz\"}"));
        assertTrue(e.getMessage().startsWith("BackendData.VtepMAC: not a MAC address: \"zz\""), e.getMessage());
        ConfigException notJson = assertThrows(ConfigException.class, () -> new Lease(Ipv4Prefix.parse("10.244.2.0/24"),
                Ipv4Address.parse("192.0.2.2"), BackendType.VXLAN, "{\"VNI\": 1,"));
        assertTrue(notJson.getMessage().startsWith("BackendData: bad JSON at line 1, column 11"), notJson.getMessage());
    }
}
