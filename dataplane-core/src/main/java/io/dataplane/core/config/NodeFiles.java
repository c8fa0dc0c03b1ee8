package io.dataplane.core.config;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * A node's three flannel files read together and checked against each other: {@code net-conf.json}
 * (the network), {@code subnet.env} (this node's subnet) and {@code peers.json} (the other nodes'
 * leases), as {@code dataplane node --config DIR} finds them in DIR. (What a node is started
 * from, these files' content plus local choices, is {@code io.dataplane.node.NodeConfig}.)
 *
 * <p>Beyond each file's own checks: subnet.env's network is net-conf.json's Network and its subnet
 * is SubnetLen long; every peer's subnet lies in the Network and is not this node's; every peer
 * runs this node's backend (a vxlan node cannot reach a udp peer) and, for vxlan, its VNI.
 *
 * @param netConf the network configuration
 * @param subnetEnv this node's subnet
 * @param peers the other nodes' leases
 */
public record NodeFiles(NetConf netConf, SubnetEnv subnetEnv, List<Lease> peers) {

    /** Checks the files against each other; throws {@link ConfigException} naming the file that disagrees. */
    public NodeFiles {
        Objects.requireNonNull(netConf, "netConf");
        Objects.requireNonNull(subnetEnv, "subnetEnv");
        Objects.requireNonNull(peers, "peers");
        peers = List.copyOf(peers);
        check(netConf, subnetEnv, null);
        checkPeers(netConf, subnetEnv, peers, null);
    }

    /** Reads {@code dir}/net-conf.json, subnet.env and peers.json. */
    public static NodeFiles read(Path dir) {
        NetConf net = NetConf.read(dir.resolve(NetConf.FILE_NAME));
        Path envFile = dir.resolve(SubnetEnv.FILE_NAME);
        SubnetEnv env = SubnetEnv.read(envFile);
        check(net, env, envFile.toString());
        Path peersFile = dir.resolve(Lease.PEERS_FILE_NAME);
        List<Lease> peers = Lease.readList(peersFile);
        checkPeers(net, env, peers, peersFile.toString());
        return new NodeFiles(net, env, peers);
    }

    /**
     * This configuration with the peers of a re-read peers.json, checked the same way (for a node
     * that watches the file).
     */
    public NodeFiles withPeers(Path peersFile) {
        List<Lease> peers = Lease.readList(peersFile);
        checkPeers(netConf, subnetEnv, peers, peersFile.toString());
        return new NodeFiles(netConf, subnetEnv, peers);
    }

    private static void check(NetConf net, SubnetEnv env, String envSource) {
        if (!env.network().equals(net.network())) {
            throw new ConfigException(envSource, "FLANNEL_NETWORK", "not the Network of net-conf.json: " + env.network() + " (net-conf.json says "
                    + net.network() + ")");
        }
        if (env.subnet().length() != net.subnetLen()) {
            throw new ConfigException(envSource, "FLANNEL_SUBNET", "not a /" + net.subnetLen() + " (SubnetLen of net-conf.json): " + env.subnet());
        }
    }

    private static void checkPeers(NetConf net, SubnetEnv env, List<Lease> peers, String source) {
        for (int i = 0; i < peers.size(); i++) {
            Lease peer = peers.get(i);
            String at = "[" + i + "]";
            if (!net.network().contains(peer.subnet())) {
                throw new ConfigException(source, at + ".Subnet", "subnet outside the Network: " + peer.subnet() + " is not in " + net.network());
            }
            if (peer.subnet().contains(env.subnet()) || env.subnet().contains(peer.subnet())) {
                throw new ConfigException(source, at + ".Subnet", "subnet overlaps this node's own: " + peer.subnet() + " and "
                        + env.subnet() + " (FLANNEL_SUBNET)");
            }
            BackendType ours = net.backend().type();
            if (!peer.backendType().equals(ours)) {
                throw new ConfigException(source, at + ".BackendType", "backend differs from this node's: " + peer.backendType()
                        + " (net-conf.json says " + ours + ")");
            }
            if (ours.equals(BackendType.VXLAN) && peer.vxlan().vni() != net.backend().vni()) {
                throw new ConfigException(source, at + ".BackendData.VNI", "VNI differs from this node's: vni=" + peer.vxlan().vni()
                        + " (net-conf.json says " + net.backend().vni() + ")");
            }
        }
    }
}
