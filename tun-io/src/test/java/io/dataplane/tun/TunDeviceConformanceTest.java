package io.dataplane.tun;

import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.spi.TunnelDevice;
import io.dataplane.core.testing.TunnelDeviceConformanceTest;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.tun.netlink.Netlink;
import io.dataplane.tun.netns.NetNamespace;
import io.dataplane.tun.testing.Hosts;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.Arrays;

/**
 * The TUN device passes the tunnel device conformance test. The pod is the kernel side of the TUN
 * in a namespace of the test's own: its UDP sockets send through the device and receive what the
 * device writes.
 */
class TunDeviceConformanceTest extends TunnelDeviceConformanceTest {
    private static final int POD = Ipv4Address.parse("10.244.5.1");
    private static final int REMOTE = Ipv4Address.parse("10.244.5.2");

    /** How the device under test is opened. */
    protected TunOptions options() {
        return TunOptions.defaults().withBatchSize(8);
    }

    @Override
    protected Harness createHarness() throws Exception {
        Hosts.assumeRoot();
        Hosts hosts = new Hosts();
        try {
            NetNamespace ns = hosts.namespace("dpconf");
            TunDevice tun = ns.call(() -> {
                TunDevice t = TunDevice.open("dpconf0", options());
                try (Netlink nl = Netlink.open()) {
                    nl.addAddress(t.name(), POD, 24);
                    nl.setUp(t.name(), true);
                }
                return t;
            });
            DatagramSocket podSocket = ns.call(() -> new DatagramSocket(new InetSocketAddress(Ipv4Address.toInetAddress(POD), POD_PORT)));
            PacketPool pool = new PacketPool(64);
            return new Harness() {
                public TunnelDevice device() { return tun; }
                public PacketPool pool() { return pool; }
                public int podAddress() { return POD; }
                public int remoteAddress() { return REMOTE; }

                public void podSend(int srcPort, int dstPort, byte[] payload) throws Exception {
                    ns.run(() -> {
                        try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(Ipv4Address.toInetAddress(POD), srcPort))) {
                            s.send(new DatagramPacket(payload, payload.length, new InetSocketAddress(Ipv4Address.toInetAddress(REMOTE), dstPort)));
                        }
                    });
                }

                public byte[] podReceive(int port, Duration timeout) throws Exception {
                    if (port != POD_PORT) throw new IllegalArgumentException("the pod listens on " + POD_PORT + " only");
                    DatagramPacket p = new DatagramPacket(new byte[2048], 2048);
                    podSocket.setSoTimeout((int) Math.max(1, timeout.toMillis()));
                    try {
                        podSocket.receive(p);
                    } catch (SocketTimeoutException e) {
                        return null;
                    }
                    return Arrays.copyOf(p.getData(), p.getLength());
                }

                public void close() throws Exception {
                    try {
                        podSocket.close();
                        tun.close();
                        pool.close();
                    } finally {
                        hosts.close();
                    }
                }
            };
        } catch (Exception | Error e) {
            hosts.close();
            throw e;
        }
    }
}
