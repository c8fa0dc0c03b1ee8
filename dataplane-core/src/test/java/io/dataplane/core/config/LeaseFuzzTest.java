package io.dataplane.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.util.List;

/**
 * Any bytes as peers.json (a JSON array of leases): either leases that write back to themselves and
 * whose typed BackendData can be read, or a {@link ConfigException}, and nothing else.
 */
class LeaseFuzzTest {

    @FuzzTest
    @DictionaryEntries({"\"Subnet\"", "\"PublicIP\"", "\"BackendType\"", "\"BackendData\"", "\"VNI\"", "\"VtepMAC\"",
        "\"PublicKey\"", "\"Port\"", "\"vxlan\"", "\"udp\"", "\"wireguard\"", "\"ipip\"", "\"host-gw\"", "\"10.244.2.0/24\"",
        "\"192.0.2.2\"", "\"22:e8:35:88:1e:9a\"", "\"GZ3iyh2mBMTZ5ldCKVZ4lAi1gsVHYo5P1uYmzBYHR2E=\"", "null", "16777216"})
    void parseList(byte[] input) {
        List<Lease> leases;
        try {
            leases = Lease.parseList(input, "peers.json");
        } catch (ConfigException e) {
            assertEquals("peers.json", e.source(), "every error names the file");
            assertNotNull(e.detail());
            return;
        }
        for (Lease lease : leases) {
            assertEquals(lease, Lease.parse(lease.toJson()), "toJson must read back equal");
            if (lease.backendType() == BackendType.VXLAN) assertNotNull(lease.vxlan().vtepMac());
            if (lease.backendType() == BackendType.WIREGUARD) assertNotNull(lease.wireguard().publicKey());
        }
    }
}
