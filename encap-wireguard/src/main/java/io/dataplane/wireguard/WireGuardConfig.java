package io.dataplane.wireguard;

import java.util.Objects;

/**
 * What a {@link WireGuardDevice} needs besides its peers.
 *
 * @param privateKey our static private key
 * @param mtu the TUN's MTU: transport payloads are padded to a multiple of 16 but never beyond it
 * @param maxPeers how many peers the device can hold (sizes the peer and index tables)
 * @param stagedQueueSize packets kept per peer while a handshake is under way (wireguard-go: 128);
 *     beyond it the oldest is dropped
 * @param handshakeLoadThreshold handshake messages per second above which the device is "under
 *     load" and asks for cookies (0: always under load)
 * @param timings the protocol's timers and limits
 * @param clock where time comes from
 * @param transportCipher which ChaCha20-Poly1305 handles transport data
 */
public record WireGuardConfig(NoisePrivateKey privateKey, int mtu, int maxPeers, int stagedQueueSize,
        int handshakeLoadThreshold, WireGuardTimings timings, WireGuardClock clock, TransportCipher transportCipher) {
    /** Default TUN MTU: a 1500-byte underlay minus WireGuard's 80 bytes. */
    public static final int DEFAULT_MTU = 1420;

    /** Checks the fields; errors name the field and the value, never the key. */
    public WireGuardConfig {
        Objects.requireNonNull(privateKey, "private key missing");
        if (mtu < 68 || mtu > 65535) throw new IllegalArgumentException("mtu out of range: mtu=" + mtu + " (68-65535)");
        if (maxPeers < 1 || maxPeers > (1 << 20)) {
            throw new IllegalArgumentException("maxPeers out of range: maxPeers=" + maxPeers + " (1-1048576)");
        }
        if (stagedQueueSize < 1) throw new IllegalArgumentException("stagedQueueSize must be positive: " + stagedQueueSize);
        if (handshakeLoadThreshold < 0) {
            throw new IllegalArgumentException("handshakeLoadThreshold must not be negative: " + handshakeLoadThreshold);
        }
        if (timings == null) timings = WireGuardTimings.DEFAULT;
        if (clock == null) clock = WireGuardClock.system();
        transportCipher = TransportCipher.orDefault(transportCipher);
    }

    /** Defaults for everything but the key: MTU 1420, 1024 peers, 128 staged, 500 handshakes/s, {@link TransportCipher#DEFAULT}. */
    public static WireGuardConfig of(NoisePrivateKey privateKey) {
        return new WireGuardConfig(privateKey, DEFAULT_MTU, 1024, 128, 500, WireGuardTimings.DEFAULT, WireGuardClock.system(),
                TransportCipher.DEFAULT);
    }

    /** This configuration with other timings and clock (tests). */
    public WireGuardConfig with(WireGuardTimings timings, WireGuardClock clock) {
        return new WireGuardConfig(privateKey, mtu, maxPeers, stagedQueueSize, handshakeLoadThreshold, timings, clock,
                transportCipher);
    }

    /** This configuration with another load threshold. */
    public WireGuardConfig withHandshakeLoadThreshold(int threshold) {
        return new WireGuardConfig(privateKey, mtu, maxPeers, stagedQueueSize, threshold, timings, clock, transportCipher);
    }

    /** This configuration with another transport cipher. */
    public WireGuardConfig with(TransportCipher cipher) {
        return new WireGuardConfig(privateKey, mtu, maxPeers, stagedQueueSize, handshakeLoadThreshold, timings, clock, cipher);
    }

    /** The key never shows. */
    @Override
    public String toString() {
        return "WireGuardConfig[publicKey=" + privateKey.publicKey() + " mtu=" + mtu + " maxPeers=" + maxPeers
                + " stagedQueueSize=" + stagedQueueSize + " handshakeLoadThreshold=" + handshakeLoadThreshold
                + " transportCipher=" + transportCipher + "]";
    }
}
