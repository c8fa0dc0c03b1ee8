package io.dataplane.core.plain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.config.BackendConf;
import io.dataplane.core.config.BackendType;
import io.dataplane.core.config.ConfigException;
import io.dataplane.core.config.Lease;
import io.dataplane.core.config.NetConf;
import io.dataplane.core.config.NodeFiles;
import io.dataplane.core.spi.Backend;
import io.dataplane.core.spi.BackendContext;
import io.dataplane.core.spi.BackendProvider;
import io.dataplane.core.spi.BackendSetup;
import io.dataplane.core.testing.FakeNetwork;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Prefix;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * flannel's files for a backend that only its provider defines: net-conf.json names it and sets
 * its fields, peers.json carries its leases with their BackendData, and the errors name the field
 * and the value as they do for flannel's own five.
 */
class PlainBackendFilesTest {
    private static final String FILE = "net-conf.json";

    private static ConfigException fails(String backend) {
        return assertThrows(ConfigException.class, () -> NetConf.parse(("{\"Network\": \"10.244.0.0/16\", \"Backend\": {" + backend
                + "}}").getBytes(StandardCharsets.UTF_8), FILE));
    }

    @Test
    void netConfNamesTheBackendAndItsFields(@TempDir Path dir) throws Exception {
        Path file = dir.resolve(NetConf.FILE_NAME);
        Files.writeString(file, "{\"Network\": \"10.244.0.0/16\", \"Backend\": {\"Type\": \"PLAIN\", \"Port\": 9100, \"MTU\": 9000}}");
        BackendConf conf = NetConf.read(file).backend();
        assertEquals(PlainBackendProvider.PLAIN, conf.type());
        assertEquals(9100, conf.port());
        assertEquals(9100, conf.udpPort());
        assertEquals(8972, conf.innerMtu(1500), "the overhead is the provider's: 9000 - 28");
        assertEquals(BackendConf.defaults(PlainBackendProvider.PLAIN), NetConf.parse("{\"Network\": \"10.244.0.0/16\", \"Backend\": "
                + "{\"Type\": \"plain\"}}").backend());
        assertEquals(8999, BackendConf.defaults(PlainBackendProvider.PLAIN).port(), "the provider's default");
        NetConf net = NetConf.read(file);
        assertEquals(net, NetConf.parse(net.toJson()), "written as read");
    }

    @Test
    void theTypeIsKnownAfterFlannelsFiveAndItsProviderIsInstalled() {
        assertEquals(List.of("udp", "vxlan", "ipip", "wireguard", "host-gw", "plain"),
                BackendType.known().stream().map(BackendType::flannelName).toList());
        BackendProvider provider = BackendProvider.of(PlainBackendProvider.PLAIN);
        assertEquals(PlainBackendProvider.PLAIN, provider.type());
        assertEquals(28, provider.overhead());
        assertEquals("plain8999", provider.tunName(BackendConf.defaults(PlainBackendProvider.PLAIN)));
        assertEquals("udp", BackendType.of("udp").flannelName());
        assertThrows(IllegalArgumentException.class, () -> BackendType.define("udp", 28, Map.of()), "flannel's names are taken");
        assertThrows(IllegalArgumentException.class, () -> BackendType.define("geneve", 50, Map.of("Options", 0)), "only Backend fields");
    }

    @Test
    void badFieldsNameTheFieldAndTheValue() {
        // In the file, another backend's field is ignored, as flanneld ignores it; set in code, it is refused.
        assertEquals(BackendConf.defaults(PlainBackendProvider.PLAIN), NetConf.parse("{\"Network\": \"10.244.0.0/16\", \"Backend\": "
                + "{\"Type\": \"plain\", \"VNI\": 1, \"DirectRouting\": true}}").backend());
        assertEquals("Backend.VNI: does not apply to the plain backend: vni=1", assertThrows(ConfigException.class,
                () -> new BackendConf(PlainBackendProvider.PLAIN, 1, 8999, false, false, false, 0, null, 0, 0)).getMessage());
        assertEquals("Backend.DirectRouting: does not apply to the plain backend: true", assertThrows(ConfigException.class,
                () -> new BackendConf(PlainBackendProvider.PLAIN, 0, 8999, false, true, false, 0, null, 0, 0)).getMessage());
        assertEquals(FILE + ": Backend.Port: Port out of range: port=70000 (1-65535)", fails("\"Type\": \"plain\", \"Port\": 70000").getMessage());
        assertEquals(FILE + ": Backend.MTU: MTU out of range: mtu=90 (plain needs at least 96: 68 inside plus 28 of headers; max 65535)",
                fails("\"Type\": \"plain\", \"MTU\": 90").getMessage());
        assertEquals(FILE + ": Backend.Type: unknown backend type: \"plane\" (one of udp, vxlan, ipip, wireguard, host-gw, plain)",
                fails("\"Type\": \"plane\"").getMessage());
    }

    @Test
    void peersJsonCarriesItsLeasesAndTheBackendReadsTheirData(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve(NetConf.FILE_NAME), "{\"Network\": \"10.244.0.0/16\", \"Backend\": {\"Type\": \"plain\"}}");
        Files.writeString(dir.resolve("subnet.env"), "FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1/24\nFLANNEL_MTU=1472\n"
                + "FLANNEL_IPMASQ=false\n");
        Files.writeString(dir.resolve(Lease.PEERS_FILE_NAME), "[{\"Subnet\": \"10.244.2.0/24\", \"PublicIP\": \"192.0.2.2\", \"BackendType\":"
                + " \"plain\", \"BackendData\": {\"Port\": 8999}}, {\"Subnet\": \"10.244.3.0/24\", \"PublicIP\": \"192.0.2.3\","
                + " \"BackendType\": \"plain\", \"BackendData\": {\"Port\": 9000}}]");
        NodeFiles files = NodeFiles.read(dir);
        Lease two = files.peers().get(0);
        assertEquals(PlainBackendProvider.PLAIN, two.backendType());
        assertEquals("{\"Port\":8999}", two.backendData());
        assertEquals(two, Lease.fromFlannelAttrs(two.subnet(), two.toFlannelAttrs().getBytes(StandardCharsets.UTF_8), "key"));

        FakeNetwork network = new FakeNetwork();
        NetConf net = files.netConf();
        String data = BackendProvider.of(net.backend().type()).leaseData(net, Ipv4Address.parse("192.0.2.1"), dir);
        try (PacketPool pool = new PacketPool(64);
                Backend backend = BackendProvider.of(net.backend().type()).open(new BackendContext(net, Ipv4Prefix.parse("10.244.1.0/24"),
                        Ipv4Address.parse("192.0.2.1"), "plain8999", 1472, pool, dir), new BackendSetup(network::attach, p -> null, Map.of()))) {
            assertEquals(data, backend.localLease().backendData(), "the lease the provider announces is the backend's");
            backend.addPeer(two);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> backend.addPeer(files.peers().get(1)));
            assertEquals("lease on another port: BackendData.Port=9000, ours is 8999 (lease of 10.244.3.0/24)", e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> backend.addPeer(Lease.of(Ipv4Prefix.parse("10.244.4.0/24"),
                    Ipv4Address.parse("192.0.2.4"), PlainBackendProvider.PLAIN)));
            assertEquals("plain lease without a port: BackendData.Port=null (lease of 10.244.4.0/24)", e.getMessage());
            assertEquals(List.of(two), backend.peers());
        }
    }
}
