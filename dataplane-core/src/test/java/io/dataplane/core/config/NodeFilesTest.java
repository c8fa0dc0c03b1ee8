package io.dataplane.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.dataplane.core.wire.Ipv4Prefix;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The three files of a node's config directory, checked against each other. */
class NodeFilesTest {
    private static final String VXLAN_PEER =
            "{\"Subnet\":\"10.244.2.0/24\",\"PublicIP\":\"192.0.2.2\",\"BackendType\":\"vxlan\",\"BackendData\":{\"VNI\":1,\"VtepMAC\":\"22:e8:35:88:1e:9a\"}}";

    @TempDir
    Path dir;

    @BeforeEach
    void writeAGoodDirectory() throws Exception {
        Files.writeString(dir.resolve("net-conf.json"), "{\"Network\": \"10.244.0.0/16\", \"Backend\": {\"Type\": \"vxlan\"}}");
        Files.writeString(dir.resolve("subnet.env"), "FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=false\n");
        Files.writeString(dir.resolve("peers.json"), "[" + VXLAN_PEER + "]");
    }

    private ConfigException fails() {
        return assertThrows(ConfigException.class, () -> NodeFiles.read(dir));
    }

    @Test
    void readsAConsistentDirectory() throws Exception {
        NodeFiles c = NodeFiles.read(dir);
        assertEquals(Ipv4Prefix.parse("10.244.1.0/24"), c.subnetEnv().subnet());
        assertEquals(1, c.peers().size());
        Files.writeString(dir.resolve("peers.json"), "[]");
        assertEquals(0, c.withPeers(dir.resolve("peers.json")).peers().size());
    }

    @Test
    void missingPeersFile() throws Exception {
        Files.delete(dir.resolve("peers.json"));
        assertEquals(dir.resolve("peers.json") + ": file not found", fails().getMessage());
    }

    @Test
    void subnetEnvOfAnotherNetwork() throws Exception {
        Files.writeString(dir.resolve("subnet.env"), "FLANNEL_NETWORK=10.245.0.0/16\nFLANNEL_SUBNET=10.245.1.1/24\n");
        assertEquals(dir.resolve("subnet.env") + ": FLANNEL_NETWORK: not the Network of net-conf.json: 10.245.0.0/16 (net-conf.json says 10.244.0.0/16)",
                fails().getMessage());
    }

    @Test
    void subnetOfAnotherLength() throws Exception {
        Files.writeString(dir.resolve("subnet.env"), "FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1/25\n");
        assertEquals(dir.resolve("subnet.env") + ": FLANNEL_SUBNET: not a /24 (SubnetLen of net-conf.json): 10.244.1.0/25", fails().getMessage());
    }

    @Test
    void peerOutsideTheNetwork() throws Exception {
        Files.writeString(dir.resolve("peers.json"), "[" + VXLAN_PEER.replace("10.244.2.0/24", "10.9.2.0/24") + "]");
        assertEquals(dir.resolve("peers.json") + ": [0].Subnet: subnet outside the Network: 10.9.2.0/24 is not in 10.244.0.0/16", fails().getMessage());
    }

    @Test
    void peerWithOurSubnet() throws Exception {
        Files.writeString(dir.resolve("peers.json"), "[" + VXLAN_PEER.replace("10.244.2.0/24", "10.244.1.0/24") + "]");
        assertEquals(dir.resolve("peers.json") + ": [0].Subnet: subnet overlaps this node's own: 10.244.1.0/24 and 10.244.1.0/24 (FLANNEL_SUBNET)",
                fails().getMessage());
    }

    @Test
    void peerOfAnotherBackend() throws Exception {
        Files.writeString(dir.resolve("peers.json"), "[{\"Subnet\":\"10.244.2.0/24\",\"PublicIP\":\"192.0.2.2\",\"BackendType\":\"udp\"}]");
        assertEquals(dir.resolve("peers.json") + ": [0].BackendType: backend differs from this node's: udp (net-conf.json says vxlan)",
                fails().getMessage());
    }

    @Test
    void peerWithAnotherVni() throws Exception {
        Files.writeString(dir.resolve("peers.json"), "[" + VXLAN_PEER.replace("\"VNI\":1", "\"VNI\":2") + "]");
        assertEquals(dir.resolve("peers.json") + ": [0].BackendData.VNI: VNI differs from this node's: vni=2 (net-conf.json says 1)",
                fails().getMessage());
    }
}
