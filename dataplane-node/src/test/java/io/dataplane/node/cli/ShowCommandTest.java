package io.dataplane.node.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** show's text from a node's answer, for what the root test does not run: host-gw, drops, a store's lease, peers' counts, queues. No root needed. */
class ShowCommandTest {

    @Test
    void hostGwWithAStoresLeaseAndDrops() throws Exception {
        String answer = """
                {"node": {"backend": "host-gw", "subnet": "10.244.1.0/24", "network": "10.244.0.0/16", "publicIp": "192.0.2.1",
                          "interface": "eth0", "underlayMtu": 1500, "tun": null, "mtu": 1500,
                          "offload": {"tcp": false, "superPacketsSent": 0, "segmentsJoined": 0},
                          "controlPlane": {"type": "etcd", "source": "http://127.0.0.1:2379 /coreos.com/network",
                                           "leaseExpiry": "2026-12-07T09:00:00Z"},
                          "stateDir": "/run/dataplane/a", "pid": 42, "startedAt": "2026-12-06T09:00:00Z", "uptimeSeconds": 93784},
                 "peers": [{"subnet": "10.244.2.0/24", "publicIp": "192.0.2.2", "endpoint": "192.0.2.2"}],
                 "routes": [{"dst": "10.244.2.0/24", "gateway": "192.0.2.2", "dev": "eth0", "flags": []}],
                 "neighbors": [], "fdb": [],
                 "stats": {"egress": {"packets": 0, "bytes": 0}, "ingress": {"packets": 0, "bytes": 0},
                           "drops": {"no_route": 3, "unknown_peer": 1}, "buffersInUse": 0, "buffers": 0}}""";
        assertEquals("""
                node: host-gw, subnet 10.244.1.0/24 of 10.244.0.0/16, public IP 192.0.2.1 on eth0 (mtu 1500), no TUN (host-gw: kernel routes)
                  control plane: etcd, http://127.0.0.1:2379 /coreos.com/network, lease expires 2026-12-07T09:00:00Z
                  state: /run/dataplane/a, pid 42, up 1d 2h 3m 4s (since 2026-12-06T09:00:00Z)
                peers: 1
                  10.244.2.0/24  public IP 192.0.2.2  endpoint 192.0.2.2
                ip route:
                  10.244.2.0/24 via 192.0.2.2 dev eth0
                traffic: egress 0 packets 0 bytes, ingress 0 packets 0 bytes; packet buffers 0 of 0 in use
                drops: no_route 3, unknown_peer 1
                """, ShowCommand.text(NodeView.JSON.readTree(answer)));
    }

    @Test
    void udpPeersWithTheirCountsEachWay() throws Exception {
        String answer = """
                {"node": {"backend": "udp", "subnet": "10.244.1.0/24", "network": "10.244.0.0/16", "publicIp": "192.0.2.1",
                          "interface": "eth0", "underlayMtu": 1500, "tun": "flannel0", "mtu": 1472, "port": 8285,
                          "offload": {"tcp": false, "superPacketsSent": 0, "segmentsJoined": 0},
                          "controlPlane": {"type": "files", "source": "/etc/dataplane/peers.json", "leaseExpiry": null},
                          "stateDir": "/etc/dataplane", "pid": 42, "startedAt": "2026-12-06T09:00:00Z", "uptimeSeconds": 61},
                 "peers": [{"subnet": "10.244.2.0/24", "publicIp": "192.0.2.2", "endpoint": "192.0.2.2:8285",
                            "received": {"packets": 8, "bytes": 672, "drops": 2, "last": "2026-12-06T09:01:00.120Z"},
                            "sent": {"packets": 10, "bytes": 2048, "drops": 0, "last": "2026-12-06T09:01:00.118Z"}},
                           {"subnet": "10.244.3.0/24", "publicIp": "192.0.2.3", "endpoint": "192.0.2.3:8285",
                            "received": {"packets": 0, "bytes": 0, "drops": 0, "last": null},
                            "sent": {"packets": 1, "bytes": 84, "drops": 1, "last": "2026-12-06T09:00:30Z"}}],
                 "routes": [{"dst": "10.244.0.0/16", "dev": "flannel0", "scope": "link", "flags": []},
                            {"dst": "10.244.2.0/24", "gateway": "192.0.2.2", "dev": "flannel0", "flags": ["onlink"]},
                            {"dst": "10.244.3.0/24", "gateway": "192.0.2.3", "dev": "flannel0", "flags": ["onlink"]}],
                 "neighbors": [], "fdb": [],
                 "stats": {"egress": {"packets": 11, "bytes": 2132}, "ingress": {"packets": 8, "bytes": 672},
                           "drops": {"ring_full": 1, "bad_checksum": 2}, "buffersInUse": 0, "buffers": 248,
                           "queues": [{"egress": {"packets": 7, "bytes": 1500}, "ingress": {"packets": 5, "bytes": 420}, "drops": 2},
                                      {"egress": {"packets": 4, "bytes": 632}, "ingress": {"packets": 3, "bytes": 252}, "drops": 1}]}}""";
        assertEquals("""
                node: udp, subnet 10.244.1.0/24 of 10.244.0.0/16, public IP 192.0.2.1 on eth0 (mtu 1500), TUN flannel0 mtu 1472, port 8285
                  offload: none (one packet per system call)
                  control plane: files, /etc/dataplane/peers.json
                  state: /etc/dataplane, pid 42, up 1m 1s (since 2026-12-06T09:00:00Z)
                peers: 2
                  10.244.2.0/24  public IP 192.0.2.2  endpoint 192.0.2.2:8285
                    received 8 packets (672 B), 2 dropped, last 2026-12-06T09:01:00.120Z; sent 10 packets (2.00 KiB), 0 dropped, last 2026-12-06T09:01:00.118Z
                  10.244.3.0/24  public IP 192.0.2.3  endpoint 192.0.2.3:8285
                    received 0 packets (0 B), 0 dropped, last never; sent 1 packets (84 B), 1 dropped, last 2026-12-06T09:00:30Z
                ip route:
                  10.244.0.0/16 dev flannel0 scope link
                  10.244.2.0/24 via 192.0.2.2 dev flannel0 onlink
                  10.244.3.0/24 via 192.0.2.3 dev flannel0 onlink
                traffic: egress 11 packets 2132 bytes, ingress 8 packets 672 bytes; packet buffers 0 of 248 in use
                queues: 0: egress 7, ingress 5 packets; 1: egress 4, ingress 3 packets
                drops: ring_full 1, bad_checksum 2
                """, ShowCommand.text(NodeView.JSON.readTree(answer)));
    }

    @Test
    void durationsAndTransferAsOperatorsReadThem() {
        assertEquals("0s", ShowCommand.duration(0));
        assertEquals("59s", ShowCommand.duration(59));
        assertEquals("1m 0s", ShowCommand.duration(60));
        assertEquals("1h 0m 1s", ShowCommand.duration(3601));
        assertEquals("2d 0h 0m 0s", ShowCommand.duration(172800));
        assertEquals("1023 B", ShowCommand.bytes(1023));
        assertEquals("1.00 KiB", ShowCommand.bytes(1024));
        assertEquals("1.50 MiB", ShowCommand.bytes(1536 * 1024));
        assertEquals("2.00 GiB", ShowCommand.bytes(2L << 30));
    }
}
