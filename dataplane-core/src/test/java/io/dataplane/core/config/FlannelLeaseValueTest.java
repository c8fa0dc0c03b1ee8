package io.dataplane.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Prefix;
import io.dataplane.core.wire.MacAddress;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * The value of a subnet key in etcd, byte for byte as flanneld's Go encoder writes flannel's
 * {@code LeaseAttrs} (PublicIP, PublicIPv6, BackendType omitempty, BackendData omitempty, in that
 * order), for every backend, and read back from what flanneld versions wrote.
 */
class FlannelLeaseValueTest {
    private static final Ipv4Prefix SUBNET = Ipv4Prefix.parse("10.244.3.0/24");
    private static final int IP = Ipv4Address.parse("192.0.2.1");

    @Test
    void vxlanAsFlanneldWritesIt() {
        Lease l = Lease.vxlan(SUBNET, IP, new VxlanLeaseData(1, MacAddress.parse("0a:58:0a:f4:03:00")));
        assertEquals("{\"PublicIP\":\"192.0.2.1\",\"PublicIPv6\":null,\"BackendType\":\"vxlan\",\"BackendData\":{\"VNI\":1,\"VtepMAC\":\"0a:58:0a:f4:03:00\"}}",
                l.toFlannelAttrs());
    }

    @Test
    void udpLeavesTypeAndDataOutAsFlannelsUdpBackend() {
        assertEquals("{\"PublicIP\":\"192.0.2.1\",\"PublicIPv6\":null}", Lease.of(SUBNET, IP, BackendType.UDP).toFlannelAttrs());
    }

    @Test
    void hostGwAndIpipCarryTheirTypeOnly() {
        assertEquals("{\"PublicIP\":\"192.0.2.1\",\"PublicIPv6\":null,\"BackendType\":\"host-gw\"}", Lease.of(SUBNET, IP, BackendType.HOST_GW).toFlannelAttrs());
        assertEquals("{\"PublicIP\":\"192.0.2.1\",\"PublicIPv6\":null,\"BackendType\":\"ipip\"}", Lease.of(SUBNET, IP, BackendType.IPIP).toFlannelAttrs());
    }

    @Test
    void wireguardKeyAndPort() {
        String key = "ZXhhbXBsZWtleWV4YW1wbGVrZXlleGFtcGxla2V5MTI=";
        Lease l = Lease.wireguard(SUBNET, IP, new WireguardLeaseData(key, 51820));
        assertEquals("{\"PublicIP\":\"192.0.2.1\",\"PublicIPv6\":null,\"BackendType\":\"wireguard\",\"BackendData\":{\"PublicKey\":\"" + key
                + "\",\"Port\":51820}}", l.toFlannelAttrs());
    }

    @Test
    void readsBackWhatItWritesAndWhatOlderFlanneldWrote() {
        Lease l = Lease.vxlan(SUBNET, IP, new VxlanLeaseData(1, MacAddress.parse("0a:58:0a:f4:03:00")));
        assertEquals(l, Lease.fromFlannelAttrs(SUBNET, l.toFlannelAttrs().getBytes(StandardCharsets.UTF_8), "k"));
        // flannel before PublicIPv6, and the udp backend's bare form.
        Lease old = Lease.fromFlannelAttrs(SUBNET, "{\"PublicIP\":\"192.0.2.1\",\"BackendType\":\"vxlan\",\"BackendData\":{\"VtepMAC\":\"0a:58:0a:f4:03:00\",\"VNI\":1}}"
                .getBytes(StandardCharsets.UTF_8), "k");
        assertEquals(l.vxlan(), old.vxlan());
        assertEquals(l.publicIp(), old.publicIp());
        Lease udp = Lease.fromFlannelAttrs(SUBNET, "{\"PublicIP\":\"192.0.2.9\"}".getBytes(StandardCharsets.UTF_8), "k");
        assertEquals(BackendType.UDP, udp.backendType());
        assertNull(udp.backendData());
    }

    @Test
    void badValuesNameTheKey() {
        String key = "/coreos.com/network/subnets/10.244.3.0-24";
        ConfigException e = assertThrows(ConfigException.class, () -> Lease.fromFlannelAttrs(SUBNET, "{not json".getBytes(StandardCharsets.UTF_8), key));
        assertTrue(e.getMessage().startsWith(key + ": bad JSON"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> Lease.fromFlannelAttrs(SUBNET, "[1]".getBytes(StandardCharsets.UTF_8), key));
        assertEquals(key + ": expected a JSON object, got array", e.getMessage());
        e = assertThrows(ConfigException.class, () -> Lease.fromFlannelAttrs(SUBNET,
                "{\"PublicIP\":\"192.0.2.1\",\"BackendType\":\"vxlan\",\"BackendData\":{\"VNI\":1}}".getBytes(StandardCharsets.UTF_8), key));
        assertTrue(e.getMessage().startsWith(key + ": BackendData.VtepMAC: missing"), e.getMessage());
    }
}
