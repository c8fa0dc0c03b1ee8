package io.dataplane.udp;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.dataplane.core.spi.Encapsulation;
import io.dataplane.core.table.AddressSet;
import io.dataplane.core.table.PeerEntries;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.tun.testing.ReceiveFuzzing;

/**
 * flannel's udp tunnel's receive path under any sequence of datagrams and GRO trains, TCP runs
 * among them (see {@link ReceiveFuzzing} for the script and what is checked): the inner packet is
 * the whole datagram, so the packets of a train lie back to back, with nothing between them.
 */
class UdpReceiveFuzzTest {
    private static final int MTU = 1472;
    private static final int PEER = Ipv4Address.parse("192.0.2.2");

    private static final ReceiveFuzzing.Tunnel UDP = new ReceiveFuzzing.Tunnel() {
        @Override
        public Encapsulation encapsulation() {
            PeerEntries entries = new PeerEntries();
            AddressSet peers = new AddressSet();
            peers.add(PEER, entries.add(null, PEER).id());
            return new UdpEncapsulation(UdpTunnelConfig.of(Ipv4Address.parse("10.244.0.0"), MTU), peers, entries);
        }

        @Override
        public byte[] datagram(byte[] inner) {
            return inner;
        }

        @Override
        public int innerOffset(byte[] datagram) {
            return 0;
        }

        @Override
        public int peer() {
            return PEER;
        }

        @Override
        public int peerPort() {
            return 8285;
        }

        @Override
        public int innerMtu() {
            return MTU;
        }
    };

    @FuzzTest
    void receive(byte[] input) {
        ReceiveFuzzing.run(UDP, input);
    }
}
