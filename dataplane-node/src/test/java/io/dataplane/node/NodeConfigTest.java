package io.dataplane.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dataplane.core.config.ConfigException;
import io.dataplane.core.config.NetConf;
import io.dataplane.core.config.SubnetEnv;
import io.dataplane.core.pipeline.Pipeline;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Prefix;
import io.dataplane.core.wire.MacAddress;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The node's configuration types: flannel's defaults, checks that name field and value, pool sizing. No root needed. */
class NodeConfigTest {
    private static final NetConf VXLAN = NetConf.parse("{\"Network\": \"10.244.0.0/16\", \"Backend\": {\"Type\": \"vxlan\", \"VNI\": 7}}");
    private static final NetConf UDP = NetConf.parse("{\"Network\": \"10.244.0.0/16\", \"Backend\": {\"Type\": \"udp\"}}");
    private static final Ipv4Prefix SUBNET = Ipv4Prefix.parse("10.244.1.0/24");
    private static final int PUBLIC_IP = Ipv4Address.parse("192.0.2.1");

    @Test
    void defaultsAreFlannels() {
        NodeConfig c = NodeConfig.of(VXLAN, SUBNET, PUBLIC_IP);
        assertEquals("flannel.7", c.effectiveTunName());
        assertEquals(Path.of("/run/dataplane/flannel.7"), c.effectiveStateDir());
        assertEquals(0, c.tunMtu());
        assertEquals(PacketPathOptions.defaults(), c.packetPath());
        assertEquals("flannel0", NodeConfig.of(UDP, SUBNET, PUBLIC_IP).effectiveTunName());
        assertEquals("tun7", c.withTunName("tun7").effectiveTunName());
        assertEquals(Path.of("/tmp/x"), c.withStateDir(Path.of("/tmp/x")).effectiveStateDir());
    }

    @Test
    void fromSubnetEnvTakesTheSubnetAndTheMtu() {
        SubnetEnv env = SubnetEnv.parse("FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.5.1/24\nFLANNEL_MTU=1400\n");
        NodeConfig c = NodeConfig.of(UDP, env, PUBLIC_IP);
        assertEquals(Ipv4Prefix.parse("10.244.5.0/24"), c.subnet());
        assertEquals(1400, c.tunMtu());
        SubnetEnv other = SubnetEnv.parse("FLANNEL_NETWORK=10.245.0.0/16\nFLANNEL_SUBNET=10.245.5.1/24\n");
        ConfigException e = assertThrows(ConfigException.class, () -> NodeConfig.of(UDP, other, PUBLIC_IP));
        assertEquals("subnet.env: FLANNEL_NETWORK: not the Network of net-conf.json: 10.245.0.0/16 (net-conf.json says 10.244.0.0/16)",
                e.getMessage());
    }

    @Test
    void badValuesAreNamed() {
        assertEquals("subnet: subnet outside the network: 10.245.1.0/24 is not a subnet of 10.244.0.0/16", assertThrows(
                ConfigException.class, () -> NodeConfig.of(UDP, Ipv4Prefix.parse("10.245.1.0/24"), PUBLIC_IP)).getMessage());
        assertEquals("publicIp: not a unicast address: 224.0.0.1", assertThrows(ConfigException.class,
                () -> NodeConfig.of(UDP, SUBNET, Ipv4Address.parse("224.0.0.1"))).getMessage());
        assertEquals("tunMtu: MTU out of range: tunMtu=67 (68-65535, or 0 to compute it)", assertThrows(ConfigException.class,
                () -> NodeConfig.of(UDP, SUBNET, PUBLIC_IP).withTunMtu(67)).getMessage());
        assertEquals("vtepMac: a VTEP MAC is for the vxlan backend only: vtepMac=02:00:00:00:00:01 with Backend.Type=udp",
                assertThrows(ConfigException.class,
                        () -> NodeConfig.of(UDP, SUBNET, PUBLIC_IP).withVtepMac(MacAddress.parse("02:00:00:00:00:01"))).getMessage());
        assertEquals("vtepMac: not a unicast MAC address: 01:00:5e:00:00:01", assertThrows(ConfigException.class,
                () -> NodeConfig.of(VXLAN, SUBNET, PUBLIC_IP).withVtepMac(MacAddress.parse("01:00:5e:00:00:01"))).getMessage());
    }

    @Test
    void packetPathOptionsAreCheckedAndSizeThePool() {
        PacketPathOptions d = PacketPathOptions.defaults();
        assertEquals(Pipeline.TunWriter.RECEIVE_THREAD, d.tunWriter());
        assertEquals(PacketPathOptions.SocketDriver.DIRECT, d.socket());
        // Direct, receive thread: the TUN batch, the receive batch and a TUN write's worth held back, plus a third.
        int direct = 32 + 64 + Pipeline.MAX_BATCH;
        assertEquals(direct + (direct + 2) / 3, d.poolSize());
        assertTrue(d.poolSize() - d.poolSize() / 4 >= direct, "the places are left when WireGuard's staged packets hold a quarter");
        int small = 32 + 8 + Pipeline.MAX_BATCH; // held back: up to a TUN write's worth whatever the receive batch
        assertEquals(small + (small + 2) / 3, d.withTransportBatch(8).poolSize());
        int single = 32 + 64;
        assertEquals(single + (single + 2) / 3, d.withTunWriter(Pipeline.TunWriter.SINGLE_THREAD).poolSize());
        // Sender and writer threads: also the send ring, the sender's batch, the TUN ring and the writer's batch.
        PacketPathOptions classic = d.withSocket(PacketPathOptions.SocketDriver.THREAD).withTunWriter(Pipeline.TunWriter.THREAD);
        int places = 32 + (1024 + 64) + 2 * 64 + (1024 + 32);
        assertEquals(places + (places + 2) / 3, classic.poolSize());
        assertEquals(100, d.withPoolBuffers(100).poolSize());
        // Super-packet buffers: the TUN batch and 16 of the path's own; with trains received into them also the
        // receive batch armed and a TUN write's worth held back; plus a third, which covers WireGuard's staged quarter.
        int trainPlaces = 32 + 16 + 64 + Pipeline.MAX_BATCH;
        assertEquals(trainPlaces + (trainPlaces + 2) / 3, d.tunPoolSize(true));
        assertEquals(48 + 16, d.tunPoolSize(false));
        int size = d.tunPoolSize(true);
        assertTrue(size - size / 4 >= trainPlaces, "the places are left when WireGuard's staged packets hold a quarter: " + size);
        assertEquals("batch size out of range: tunBatch=0 (1-1024)",
                assertThrows(IllegalArgumentException.class, () -> d.withTunBatch(0)).getMessage());
        assertEquals("ring capacity must be a power of two >= 2: transportRing=1000",
                assertThrows(IllegalArgumentException.class, () -> d.withTransportRing(1000)).getMessage());
        assertEquals("TUN queue length negative: tunQueueLength=-1",
                assertThrows(IllegalArgumentException.class, () -> d.withTunQueueLength(-1)).getMessage());
        assertEquals("pool size negative: poolBuffers=-1",
                assertThrows(IllegalArgumentException.class, () -> d.withPoolBuffers(-1)).getMessage());
    }
}
