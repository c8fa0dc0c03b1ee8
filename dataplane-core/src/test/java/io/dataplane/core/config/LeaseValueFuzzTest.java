package io.dataplane.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.dataplane.core.wire.Ipv4Prefix;
import java.nio.charset.StandardCharsets;

/**
 * Any bytes as the value of a store's subnet key ({@code <prefix>/subnets/10.244.2.0-24}, the form
 * flanneld writes): {@link Lease#fromFlannelAttrs} gives a lease of the key's subnet that
 * {@link Lease#toFlannelAttrs} writes back to itself and whose typed BackendData can be read, or a
 * {@link ConfigException} that names the key, and nothing else.
 */
class LeaseValueFuzzTest {
    private static final Ipv4Prefix SUBNET = Ipv4Prefix.parse("10.244.2.0/24");
    private static final String KEY = "/coreos.com/network/subnets/10.244.2.0-24";

    @FuzzTest
    @DictionaryEntries({"\"Subnet\"", "\"PublicIP\"", "\"PublicIPv6\"", "\"BackendType\"", "\"BackendData\"", "\"BackendV6Data\"",
        "\"VNI\"", "\"VtepMAC\"", "\"PublicKey\"", "\"Port\"", "\"vxlan\"", "\"udp\"", "\"wireguard\"", "\"ipip\"", "\"host-gw\"",
        "\"10.244.2.0/24\"", "\"192.0.2.2\"", "\"22:e8:35:88:1e:9a\"", "\"GZ3iyh2mBMTZ5ldCKVZ4lAi1gsVHYo5P1uYmzBYHR2E=\"", "null",
        "\"Expiration\"", "\"EnableIPv4\"", "true"})
    void parse(byte[] input) {
        Lease lease;
        try {
            lease = Lease.fromFlannelAttrs(SUBNET, input, KEY);
        } catch (ConfigException e) {
            assertEquals(KEY, e.source(), "names the key");
            assertNotNull(e.detail());
            return;
        }
        assertEquals(SUBNET, lease.subnet(), "the key's subnet");
        assertEquals(lease, Lease.fromFlannelAttrs(SUBNET, lease.toFlannelAttrs().getBytes(StandardCharsets.UTF_8), KEY),
                "toFlannelAttrs must read back equal");
        if (lease.backendType() == BackendType.VXLAN) assertNotNull(lease.vxlan().vtepMac());
        if (lease.backendType() == BackendType.WIREGUARD) assertNotNull(lease.wireguard().publicKey());
    }
}
