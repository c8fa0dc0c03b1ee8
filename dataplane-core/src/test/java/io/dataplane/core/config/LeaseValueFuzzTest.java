package io.dataplane.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;

/**
 * Any bytes as one lease value read from a store (a {@code <prefix>/subnets/...} value, the form
 * flanneld writes, with the subnet its key names): {@link Lease#parse} gives a lease that writes
 * back to itself and whose typed BackendData can be read, or a {@link ConfigException} that names
 * the field and no file, and nothing else.
 */
class LeaseValueFuzzTest {

    @FuzzTest
    @DictionaryEntries({"\"Subnet\"", "\"PublicIP\"", "\"PublicIPv6\"", "\"BackendType\"", "\"BackendData\"", "\"BackendV6Data\"",
        "\"VNI\"", "\"VtepMAC\"", "\"PublicKey\"", "\"Port\"", "\"vxlan\"", "\"udp\"", "\"wireguard\"", "\"ipip\"", "\"host-gw\"",
        "\"10.244.2.0/24\"", "\"192.0.2.2\"", "\"22:e8:35:88:1e:9a\"", "\"GZ3iyh2mBMTZ5ldCKVZ4lAi1gsVHYo5P1uYmzBYHR2E=\"", "null",
        "\"Expiration\"", "\"EnableIPv4\"", "true"})
    void parse(byte[] input) {
        Lease lease;
        try {
            lease = Lease.parse(new String(input, StandardCharsets.UTF_8));
        } catch (ConfigException e) {
            assertNull(e.source(), "a store value has no file name");
            assertNotNull(e.detail());
            return;
        }
        assertEquals(lease, Lease.parse(lease.toJson()), "toJson must read back equal");
        switch (lease.backendType()) {
            case VXLAN -> assertNotNull(lease.vxlan().vtepMac());
            case WIREGUARD -> assertNotNull(lease.wireguard().publicKey());
            default -> { }
        }
    }
}
