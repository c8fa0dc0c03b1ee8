package io.dataplane.wireguard;

import io.dataplane.core.spi.TransportFactory;
import io.dataplane.tun.socket.SocketTransport;
import io.dataplane.tun.udp.UdpTransportConfig;

/**
 * How a {@link WireGuardBackend} is built beyond what flannel's net-conf.json says (ListenPort, PSK
 * and PersistentKeepaliveInterval come from there).
 *
 * @param privateKey our static key, or null to keep one in the state directory ({@code DIR/wgkey},
 *     created 0600 when missing, as flanneld does)
 * @param transportCipher which ChaCha20-Poly1305 seals and opens transport data
 * @param timings the protocol's timers (shortened in tests)
 * @param clock where time comes from
 * @param handshakeLoadThreshold handshake messages per second above which the node asks initiators
 *     for cookies (wireguard-go's is derived from its queue length; 500 here)
 * @param maxPeers how many peers the node can hold
 * @param transports opens the UDP socket: {@link #UDP_SOCKETS} in production, an in-memory network in tests
 */
public record WireGuardOptions(NoisePrivateKey privateKey, TransportCipher transportCipher, WireGuardTimings timings,
        WireGuardClock clock, int handshakeLoadThreshold, int maxPeers, TransportFactory transports) {

    /**
     * UDP sockets over FFM with recvmmsg/sendmmsg batches, sending on the caller, with the defaults of
     * {@link UdpTransportConfig#of}: {@link SocketTransport#UDP_SOCKETS}, the node's packet path.
     */
    public static final TransportFactory UDP_SOCKETS = SocketTransport.UDP_SOCKETS;

    /** Checks and fills in defaults (timings, clock, cipher); errors name the field and the value, never a key. */
    public WireGuardOptions {
        transportCipher = TransportCipher.orDefault(transportCipher);
        if (timings == null) timings = WireGuardTimings.DEFAULT;
        if (clock == null) clock = WireGuardClock.system();
        if (handshakeLoadThreshold < 0) {
            throw new IllegalArgumentException("handshake load threshold negative: handshakeLoadThreshold=" + handshakeLoadThreshold);
        }
        if (maxPeers < 1 || maxPeers > (1 << 20)) {
            throw new IllegalArgumentException("maxPeers out of range: maxPeers=" + maxPeers + " (1-1048576)");
        }
        if (transports == null) throw new IllegalArgumentException("transport factory missing: transports=null");
    }

    /** Key from the state directory, the default cipher and timings, 500 handshakes/s, 1024 peers, UDP sockets. */
    public static WireGuardOptions defaults() {
        return new WireGuardOptions(null, TransportCipher.DEFAULT, WireGuardTimings.DEFAULT, WireGuardClock.system(), 500, 1024,
                UDP_SOCKETS);
    }

    /** These options with a given private key instead of the state directory's. */
    public WireGuardOptions withPrivateKey(NoisePrivateKey key) {
        return new WireGuardOptions(key, transportCipher, timings, clock, handshakeLoadThreshold, maxPeers, transports);
    }

    /** These options with another transport cipher. */
    public WireGuardOptions withTransportCipher(TransportCipher cipher) {
        return new WireGuardOptions(privateKey, cipher, timings, clock, handshakeLoadThreshold, maxPeers, transports);
    }

    /** These options with other timings (tests shorten the rekey interval). */
    public WireGuardOptions withTimings(WireGuardTimings timings) {
        return new WireGuardOptions(privateKey, transportCipher, timings, clock, handshakeLoadThreshold, maxPeers, transports);
    }

    /** These options with another clock. */
    public WireGuardOptions withClock(WireGuardClock clock) {
        return new WireGuardOptions(privateKey, transportCipher, timings, clock, handshakeLoadThreshold, maxPeers, transports);
    }

    /** These options with another load threshold (0: always under load, every handshake needs a cookie). */
    public WireGuardOptions withHandshakeLoadThreshold(int threshold) {
        return new WireGuardOptions(privateKey, transportCipher, timings, clock, threshold, maxPeers, transports);
    }

    /** These options holding up to {@code maxPeers} peers. */
    public WireGuardOptions withMaxPeers(int maxPeers) {
        return new WireGuardOptions(privateKey, transportCipher, timings, clock, handshakeLoadThreshold, maxPeers, transports);
    }

    /** These options opening their socket through {@code transports}. */
    public WireGuardOptions withTransports(TransportFactory transports) {
        return new WireGuardOptions(privateKey, transportCipher, timings, clock, handshakeLoadThreshold, maxPeers, transports);
    }

    /** Everything but the private key, of which only the public half shows. */
    @Override
    public String toString() {
        return "WireGuardOptions[" + (privateKey == null ? "key from state dir" : "publicKey=" + privateKey.publicKey())
                + " transportCipher=" + transportCipher + " handshakeLoadThreshold=" + handshakeLoadThreshold + " maxPeers=" + maxPeers
                + "]";
    }
}
