package io.dataplane.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dataplane.core.wire.Ipv4Prefix;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** net-conf.json: flannel's own documented examples, flannel's defaults, and the accepted variations. */
class NetConfTest {

    /** The net-conf.json of flannel's Documentation/kube-flannel.yml. */
    @Test
    void kubeFlannelManifest() {
        NetConf c = NetConf.parse("""
                {
                  "Network": "10.244.0.0/16",
                  "EnableNFTables": false,
                  "Backend": {
                    "Type": "vxlan"
                  }
                }
                """);
        assertEquals(Ipv4Prefix.parse("10.244.0.0/16"), c.network());
        assertEquals(24, c.subnetLen());
        assertEquals(Ipv4Prefix.parse("10.244.1.0/24"), c.subnetMin(), "flannel skips the first subnet");
        assertEquals(Ipv4Prefix.parse("10.244.255.0/24"), c.subnetMax());
        assertEquals(BackendConf.defaults(BackendType.VXLAN), c.backend());
        assertEquals(1, c.backend().vni());
        assertEquals(8472, c.backend().port(), "the kernel's VXLAN port, which flannel gets by leaving Port 0");
        assertFalse(c.backend().gbp() || c.backend().learning() || c.backend().directRouting());
        assertEquals(0, c.backend().mtu(), "0: the underlay interface's MTU");
    }

    /** The example of flannel's Documentation/configuration.md. */
    @Test
    void configurationDocumentationExample() {
        NetConf c = NetConf.parse("""
                {
                	"Network": "10.0.0.0/8",
                	"SubnetLen": 20,
                	"SubnetMin": "10.10.0.0",
                	"SubnetMax": "10.99.0.0",
                	"Backend": {
                		"Type": "udp",
                		"Port": 7890
                	}
                }
                """);
        assertEquals(Ipv4Prefix.parse("10.0.0.0/8"), c.network());
        assertEquals(20, c.subnetLen());
        assertEquals(Ipv4Prefix.parse("10.10.0.0/20"), c.subnetMin());
        assertEquals(Ipv4Prefix.parse("10.99.0.0/20"), c.subnetMax());
        assertEquals(BackendType.UDP, c.backend().type());
        assertEquals(7890, c.backend().port());
        assertEquals(7890, c.backend().udpPort());
        assertTrue(c.isLeasable(Ipv4Prefix.parse("10.50.16.0/20")));
        assertFalse(c.isLeasable(Ipv4Prefix.parse("10.9.240.0/20")), "below SubnetMin");
        assertFalse(c.isLeasable(Ipv4Prefix.parse("10.50.16.0/24")), "not SubnetLen long");
    }

    /** Documentation/minikube.yml and the etcd example of Documentation/running.md. */
    @Test
    void hostGwAndEtcdExamples() {
        NetConf hostGw = NetConf.parse("{\"Network\": \"10.33.0.0/16\", \"Backend\": {\"Type\": \"host-gw\"}}");
        assertEquals(BackendType.HOST_GW, hostGw.backend().type());
        assertEquals(0, hostGw.backend().udpPort());
        NetConf etcd = NetConf.parse("{ \"Network\": \"10.5.0.0/16\", \"Backend\": {\"Type\": \"vxlan\"}}");
        assertEquals(Ipv4Prefix.parse("10.5.1.0/24"), etcd.subnetMin());
        assertEquals(BackendType.VXLAN, etcd.backend().type());
    }

    @Test
    void withoutBackendFlannelRunsUdpOnPort8285() {
        NetConf c = NetConf.parse("{\"Network\": \"10.244.0.0/16\"}");
        assertEquals(BackendConf.defaults(BackendType.UDP), c.backend());
        assertEquals(8285, c.backend().port());
    }

    @Test
    void subnetLenDefaultsFollowTheNetworkSize() {
        assertEquals(24, NetConf.parse("{\"Network\": \"10.244.0.0/22\"}").subnetLen());
        NetConf small = NetConf.parse("{\"Network\": \"10.244.0.0/26\"}");
        assertEquals(28, small.subnetLen(), "smaller than /22: split in four");
        assertEquals(Ipv4Prefix.parse("10.244.0.16/28"), small.subnetMin());
        assertEquals(Ipv4Prefix.parse("10.244.0.48/28"), small.subnetMax());
        assertEquals(30, NetConf.parse("{\"Network\": \"10.244.0.0/28\"}").subnetLen());
    }

    @Test
    void wholeAddressSpaceDoesNotOverflow() {
        NetConf c = NetConf.parse("{\"Network\": \"0.0.0.0/0\"}");
        assertEquals(Ipv4Prefix.parse("0.0.1.0/24"), c.subnetMin());
        assertEquals(Ipv4Prefix.parse("255.255.255.0/24"), c.subnetMax());
    }

    /** flannel's vxlan backend declares lower-case JSON tags; Go matches keys case-insensitively. */
    @Test
    void keysMatchCaseInsensitivelyAsInGo() {
        NetConf c = NetConf.parse("""
                {"network": "10.244.0.0/16", "subnetlen": 25,
                 "backend": {"type": "VXLAN", "vni": 4096, "port": 4789, "gbp": true, "learning": true,
                             "directRouting": true, "mtu": 9000}}
                """);
        assertEquals(25, c.subnetLen());
        BackendConf b = c.backend();
        assertEquals(new BackendConf(BackendType.VXLAN, 4096, 4789, true, true, true, 9000, null, 0, 0), b);
        assertEquals(8950, b.innerMtu(1500), "the backend's MTU wins over the interface's");
    }

    @Test
    void wireguardWithEveryOption() {
        String psk = "GZ3iyh2mBMTZ5ldCKVZ4lAi1gsVHYo5P1uYmzBYHR2E=";
        NetConf c = NetConf.parse("""
                {"Network": "10.244.0.0/16",
                 "Backend": {"Type": "wireguard", "PSK": "%s", "ListenPort": 51821, "ListenPortV6": 51822,
                             "PersistentKeepaliveInterval": 25, "Mode": "separate", "MTU": 1420}}
                """.formatted(psk));
        BackendConf b = c.backend();
        assertEquals(BackendType.WIREGUARD, b.type());
        assertEquals(psk, b.psk());
        assertEquals(51821, b.listenPort());
        assertEquals(51821, b.udpPort());
        assertEquals(25, b.persistentKeepaliveInterval());
        assertEquals(1340, b.innerMtu(1500));
        assertFalse(b.toString().contains(psk), "the PSK must not reach logs: " + b);
        assertEquals(51820, BackendConf.defaults(BackendType.WIREGUARD).listenPort());
    }

    @Test
    void ipipReadsDirectRoutingAndFieldsOfOtherBackendsAreIgnoredAsInFlannel() {
        BackendConf b = NetConf.parse("""
                {"Network": "10.244.0.0/16", "Backend": {"Type": "ipip", "DirectRouting": true, "VNI": 99999999, "Port": 0}}
                """).backend();
        assertEquals(new BackendConf(BackendType.IPIP, 0, 0, false, true, false, 0, null, 0, 0), b);
        assertEquals(1480, b.innerMtu(1500));
    }

    @Test
    void vxlanPortZeroIsTheKernelDefault() {
        assertEquals(8472, NetConf.parse("{\"Network\": \"10.244.0.0/16\", \"Backend\": {\"Type\": \"vxlan\", \"Port\": 0}}").backend().port());
    }

    @Test
    void nullMeansAbsentAndUnknownKeysAreIgnored() {
        NetConf c = NetConf.parse("""
                {"Network": "10.244.0.0/16", "SubnetLen": null, "SubnetMin": null, "EnableIPv6": null,
                 "IPv6Network": "2001:cafe:42::/56", "Comment": "set up by hand", "EnableNFTables": true,
                 "Backend": {"Type": "vxlan", "VNI": null, "MacPrefix": "0E-2A", "Name": "flannel.4096"}}
                """);
        assertEquals(NetConf.of(Ipv4Prefix.parse("10.244.0.0/16"), BackendConf.defaults(BackendType.VXLAN)), c);
    }

    @Test
    void explicitZeroSubnetMinMaxMeanDefault() {
        NetConf c = NetConf.parse("{\"Network\": \"10.244.0.0/16\", \"SubnetMin\": \"0.0.0.0\", \"SubnetMax\": \"0.0.0.0\"}");
        assertEquals(Ipv4Prefix.parse("10.244.1.0/24"), c.subnetMin());
        assertEquals(Ipv4Prefix.parse("10.244.255.0/24"), c.subnetMax());
    }

    @Test
    void toJsonReadsBackEqual() {
        for (String json : new String[] {
            "{\"Network\": \"10.0.0.0/8\", \"SubnetLen\": 20, \"SubnetMin\": \"10.10.0.0\", \"SubnetMax\": \"10.99.0.0\","
                    + " \"Backend\": {\"Type\": \"udp\", \"Port\": 7890, \"MTU\": 1400}}",
            "{\"Network\": \"10.244.0.0/16\", \"Backend\": {\"Type\": \"vxlan\", \"VNI\": 7, \"GBP\": true, \"Learning\": true,"
                    + " \"DirectRouting\": true}}",
            "{\"Network\": \"10.244.0.0/16\", \"Backend\": {\"Type\": \"wireguard\", \"PersistentKeepaliveInterval\": 5,"
                    + " \"PSK\": \"GZ3iyh2mBMTZ5ldCKVZ4lAi1gsVHYo5P1uYmzBYHR2E=\"}}",
            "{\"Network\": \"10.244.0.0/16\", \"Backend\": {\"Type\": \"ipip\", \"DirectRouting\": true}}",
            "{\"Network\": \"192.0.2.0/24\", \"Backend\": {\"Type\": \"host-gw\"}}",
        }) {
            NetConf c = NetConf.parse(json);
            assertEquals(c, NetConf.parse(c.toJson()), c.toJson());
        }
    }

    @Test
    void toJsonUsesFlannelsNames() {
        String json = NetConf.of(Ipv4Prefix.parse("10.244.0.0/16"), BackendConf.defaults(BackendType.VXLAN)).toJson();
        for (String name : new String[] {"\"Network\" : \"10.244.0.0/16\"", "\"SubnetLen\" : 24", "\"SubnetMin\" : \"10.244.1.0\"",
            "\"SubnetMax\" : \"10.244.255.0\"", "\"Type\" : \"vxlan\"", "\"VNI\" : 1", "\"Port\" : 8472"}) {
            assertTrue(json.contains(name), name + " in " + json);
        }
    }

    @Test
    void readsAFileAndNamesItInErrors(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("net-conf.json");
        Files.writeString(file, "{\"Network\": \"10.244.0.0/16\", \"Backend\": {\"Type\": \"vxlan\", \"VNI\": 16777216}}");
        ConfigException e = assertThrows(ConfigException.class, () -> NetConf.read(file));
        assertEquals(file + ": Backend.VNI: VNI out of range: vni=16777216 (max 16777215)", e.getMessage());
        assertEquals(file.toString(), e.source());
        assertEquals("Backend.VNI", e.field());
        Files.writeString(file, "{\"Network\": \"10.244.0.0/16\"}");
        assertEquals(BackendType.UDP, NetConf.read(file).backend().type());
    }

    @Test
    void innerMtuRefusesAnUnderlayTooSmallForTheHeaders() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> BackendConf.defaults(BackendType.WIREGUARD).innerMtu(140));
        assertEquals("underlay MTU too small for wireguard: 140 - 80 = 60 (min 68)", e.getMessage());
    }

    @Test
    void backendTypeNamesAreFlannels() {
        assertEquals(BackendType.HOST_GW, BackendType.of("host-gw"));
        assertEquals(BackendType.WIREGUARD, BackendType.of("WireGuard"));
        assertEquals("host-gw", BackendType.HOST_GW.toString());
        assertNull(NetConf.parse("{\"Network\": \"10.244.0.0/16\", \"Backend\": {\"Type\": \"wireguard\", \"PSK\": \"\"}}").backend().psk(),
                "flanneld treats an empty PSK as none");
    }

    @Test
    void acceptsUtf8Bytes() {
        byte[] json = "{\"Network\": \"10.244.0.0/16\", \"Comment\": \"n\u00f8de\"}".getBytes(StandardCharsets.UTF_8);
        assertEquals(24, NetConf.parse(json, "net-conf.json").subnetLen());
    }
}
