package io.dataplane.wireguard.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dataplane.core.config.Lease;
import io.dataplane.core.config.WireguardLeaseData;
import io.dataplane.core.stats.Counters;
import io.dataplane.core.testing.Prerequisites;
import io.dataplane.tun.testing.Hosts;
import io.dataplane.wireguard.NoisePublicKey;
import io.dataplane.wireguard.WireGuardOptions;
import io.dataplane.wireguard.WireGuardPeer;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Our node (real TUN, {@link io.dataplane.wireguard.WireGuardBackend}, the core's pipeline) in one
 * namespace and wireguard-go (Debian's build, configured with {@code wg} as flanneld configures
 * kernel WireGuard) in the other, carrying real ping and iperf3 traffic between pod addresses.
 * Handshakes are started from each side in turn.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class WireGuardGoNodeTest {
    @BeforeEach
    void tools() {
        Prerequisites.program("wireguard-go");
        Prerequisites.program("wg");
        Prerequisites.program("ping");
    }

    private static Lease leaseOf(WgTestbed.WireGuardGo go) {
        return Lease.wireguard(go.host().subnet(), go.host().address(), new WireguardLeaseData(go.publicKey(), WgTestbed.PORT));
    }

    @Test
    void weInitiateThenPingAndTcpCrossBothWays() throws Exception {
        Prerequisites.program("iperf3");
        try (WgTestbed bed = WgTestbed.twoHosts()) {
            WgTestbed.Host ours = bed.host(1);
            WgTestbed.Host theirs = bed.host(2);
            WgTestbed.OurNode node = bed.startOurs(ours, WgTestbed.netConf(null), WireGuardOptions.defaults());
            // wireguard-go knows no endpoint for us: only our initiation can start the session.
            WgTestbed.WireGuardGo go = bed.startWireGuardGo(theirs, node, false);
            node.backend.addPeer(leaseOf(go));

            WgTraffic.Ping ping = WgTraffic.ping(ours, theirs, 5, 0.2);
            assertTrue(List.of(1).containsAll(ping.unanswered(5)), "the first ping may wait for the handshake, the rest must come back:\n"
                    + ping.output());
            WireGuardPeer peer = node.backend.encapsulation().peer(NoisePublicKey.parse(go.publicKey()));
            assertTrue(peer.hasSession(), "our session with wireguard-go");
            String endpoints = go.show("endpoints");
            assertTrue(endpoints.contains(ours.addressText() + ":" + WgTestbed.PORT), "wireguard-go learnt our endpoint from our initiation: " + endpoints);
            assertFalse(go.show("latest-handshakes").strip().endsWith("\t0"), "wireguard-go completed a handshake");

            WgTraffic.Ping back = WgTraffic.ping(theirs, ours, 5, 0.1);
            assertEquals(List.of(), back.unanswered(5), back.output());
            double up = WgTraffic.iperf3(bed, ours, theirs, 3, false);
            double down = WgTraffic.iperf3(bed, ours, theirs, 3, true);
            System.out.printf("ours <-> wireguard-go, TCP 3 s: ours -> go %.0f Mbit/s, go -> ours %.0f Mbit/s (noisy shared machine)%n",
                    up / 1e6, down / 1e6);
            // That TCP flows, not how fast (speed is e2e.sh's): a super-packet path that corrupts
            // or loses segments stalls a stream to retransmission timeouts, far under 1 Mbit/s; a
            // starved 2-core machine has carried 6 Mbit/s.
            assertTrue(up > 1e6, "TCP ours -> wireguard-go: " + up + " bit/s");
            assertTrue(down > 1e6, "TCP wireguard-go -> ours: " + down + " bit/s");

            assertTrue(node.pipeline.superPacketsSent() > 0, "TSO super-packets sealed into trains for wireguard-go");
            Counters.Snapshot s = node.stats();
            assertTrue(s.egressPackets() > 1000 && s.ingressPackets() > 1000, "packets each way: " + s.egressPackets() + "/" + s.ingressPackets());
            assertEquals(0, s.dropped(io.dataplane.core.stats.DropReason.WG_DECRYPT_FAILED), "nothing failed to open");
            assertEquals(0, s.dropped(io.dataplane.core.stats.DropReason.WG_NOT_ALLOWED_SOURCE));
        }
    }

    @Test
    void wireguardGoInitiatesAndWeAnswer() throws Exception {
        try (WgTestbed bed = WgTestbed.twoHosts()) {
            WgTestbed.Host ours = bed.host(1);
            WgTestbed.Host theirs = bed.host(2);
            WgTestbed.OurNode node = bed.startOurs(ours, WgTestbed.netConf(null), WireGuardOptions.defaults());
            WgTestbed.WireGuardGo go = bed.startWireGuardGo(theirs, node, true);
            node.backend.addPeer(leaseOf(go));
            WireGuardPeer peer = node.backend.encapsulation().peer(NoisePublicKey.parse(go.publicKey()));
            assertFalse(peer.hasSession(), "no traffic yet, no session");

            WgTraffic.Ping ping = WgTraffic.ping(theirs, ours, 5, 0.2);
            assertTrue(List.of(1).containsAll(ping.unanswered(5)), "wireguard-go's initiation answered, its pings too:\n" + ping.output());
            assertTrue(peer.lastHandshakeEpochNanos() > 0, "handshake completed on our side");
            assertEquals(0, node.stats().dropped(io.dataplane.core.stats.DropReason.WG_BAD_HANDSHAKE));
            WgTraffic.Ping back = WgTraffic.ping(ours, theirs, 5, 0.1);
            assertEquals(List.of(), back.unanswered(5), back.output());
            assertTrue(Hosts.run(theirs.exec("wg", "show", go.iface(), "transfer")).matches("(?s).*\\t[1-9][0-9]*\\t[1-9][0-9]*\\s*"),
                    "wireguard-go counted bytes both ways");
        }
    }
}
