package io.dataplane.wireguard;

import io.dataplane.wireguard.crypto.Aead;
import io.dataplane.wireguard.crypto.Blake2s;
import io.dataplane.wireguard.crypto.Hkdf;
import io.dataplane.wireguard.crypto.Tai64n;
import io.dataplane.wireguard.crypto.X25519;
import io.dataplane.core.stats.DropReason;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * One peer's Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s handshake (whitepaper section 5.4): the state
 * between the messages and the four steps that create and consume initiation and response, then
 * the derivation of the session {@link Keypair}.
 *
 * <p>Threads: every method runs with the owning peer's lock held ({@link WireGuardPeer#lock}),
 * except {@link #decryptInitiator}, which touches no peer state. Secrets (ephemeral keys, chaining
 * key) are wiped as soon as the session is derived.
 */
final class NoiseHandshake {
    static final byte[] CONSTRUCTION = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s".getBytes(StandardCharsets.US_ASCII);
    static final byte[] IDENTIFIER = "WireGuard v1 zx2c4 Jason@zx2c4.com".getBytes(StandardCharsets.US_ASCII);
    static final byte[] INITIAL_CHAIN_KEY = Blake2s.hash(CONSTRUCTION);
    static final byte[] INITIAL_HASH = Blake2s.hash(INITIAL_CHAIN_KEY, IDENTIFIER);
    private static final byte[] EMPTY = new byte[0];

    enum State { ZEROED, INITIATION_CREATED, INITIATION_CONSUMED, RESPONSE_CREATED, RESPONSE_CONSUMED }

    private final NoisePrivateKey ourKey;
    private final byte[] remoteStatic;
    private final byte[] presharedKey;
    /** DH(our static, peer static), computed once; null when the peer's key is of low order. */
    private final byte[] staticStatic;

    State state = State.ZEROED;
    private byte[] hash;
    private byte[] chainKey;
    private byte[] localEphemeral;
    private byte[] remoteEphemeral;
    int localIndex;
    int remoteIndex;
    private byte[] lastTimestamp = new byte[Tai64n.LEN];
    private boolean consumedAny;
    private long lastInitiationConsumedNanos;
    /** When we last sent an initiation or response; at most one initiation per rekey-timeout. */
    boolean sentAny;
    long lastSentNanos;

    NoiseHandshake(NoisePrivateKey ourKey, NoisePublicKey remoteStatic, PresharedKey psk) {
        this.ourKey = ourKey;
        this.remoteStatic = remoteStatic.bytes();
        this.presharedKey = psk.bytes();
        this.staticStatic = ourKey.sharedSecret(this.remoteStatic);
    }

    /** False when the peer's public key is unusable (DH with it gives zero). */
    boolean valid() {
        return staticStatic != null;
    }

    /**
     * Builds an initiation (148 bytes, macs left zero) with {@code index} as sender; null when the
     * peer's key is unusable.
     */
    byte[] createInitiation(int index, long epochNanos) {
        if (staticStatic == null) return null;
        byte[] h = Blake2s.hash(INITIAL_HASH, remoteStatic);
        byte[] ck = INITIAL_CHAIN_KEY;
        byte[] e = X25519.generatePrivateKey();
        byte[] ePub = X25519.publicKey(e);
        ck = Hkdf.kdf1(ck, ePub);
        h = Blake2s.hash(h, ePub);
        byte[] es = X25519.sharedSecret(e, remoteStatic);
        if (es == null) return null;
        byte[][] k = Hkdf.kdf(2, ck, es);
        ck = k[0];
        byte[] encStatic = Aead.seal(k[1], 0, ourKey.publicKey().bytes(), h);
        h = Blake2s.hash(h, encStatic);
        k = Hkdf.kdf(2, ck, staticStatic);
        ck = k[0];
        byte[] encTimestamp = Aead.seal(k[1], 0, Tai64n.of(epochNanos), h);
        h = Blake2s.hash(h, encTimestamp);

        byte[] msg = new byte[InitiationMessage.LEN];
        Le.putInt(msg, 0, MessageType.INITIATION);
        Le.putInt(msg, InitiationMessage.SENDER, index);
        System.arraycopy(ePub, 0, msg, InitiationMessage.EPHEMERAL, 32);
        System.arraycopy(encStatic, 0, msg, InitiationMessage.STATIC, 48);
        System.arraycopy(encTimestamp, 0, msg, InitiationMessage.TIMESTAMP, 28);

        wipeEphemeral();
        hash = h;
        chainKey = ck;
        localEphemeral = e;
        localIndex = index;
        state = State.INITIATION_CREATED;
        return msg;
    }

    /** The responder's first step, before it knows the peer: who sent {@code msg}, and the state so far. */
    record Initiator(NoisePublicKey publicKey, byte[] hash, byte[] chainKey, byte[] ephemeral) {}

    /** Decrypts the initiator's static key from an initiation; null when it does not authenticate. */
    static Initiator decryptInitiator(NoisePrivateKey ourKey, byte[] msg) {
        byte[] ePub = Arrays.copyOfRange(msg, InitiationMessage.EPHEMERAL, InitiationMessage.EPHEMERAL + 32);
        byte[] h = Blake2s.hash(INITIAL_HASH, ourKey.publicKey().bytes());
        h = Blake2s.hash(h, ePub);
        byte[] ck = Hkdf.kdf1(INITIAL_CHAIN_KEY, ePub);
        byte[] es = ourKey.sharedSecret(ePub);
        if (es == null) return null;
        byte[][] k = Hkdf.kdf(2, ck, es);
        byte[] peerStatic = Aead.open(k[1], 0, msg, InitiationMessage.STATIC, 48, h);
        if (peerStatic == null) return null;
        h = Blake2s.hash(h, Arrays.copyOfRange(msg, InitiationMessage.STATIC, InitiationMessage.STATIC + 48));
        return new Initiator(NoisePublicKey.of(peerStatic), h, k[0], ePub);
    }

    /**
     * The responder's second step, for the peer {@code who} names: checks the timestamp (newer than
     * the last accepted, and not within the flood interval of the last initiation) and keeps the state.
     *
     * @return -1 when accepted, else the drop reason's ordinal
     */
    int consumeInitiation(byte[] msg, Initiator who, long now, WireGuardTimings t) {
        if (staticStatic == null) return DropReason.WG_BAD_HANDSHAKE.ordinal();
        byte[][] k = Hkdf.kdf(2, who.chainKey(), staticStatic);
        byte[] timestamp = Aead.open(k[1], 0, msg, InitiationMessage.TIMESTAMP, 28, who.hash());
        if (timestamp == null) return DropReason.WG_BAD_HANDSHAKE.ordinal();
        if (!Tai64n.after(timestamp, lastTimestamp)) return DropReason.WG_HANDSHAKE_REPLAY.ordinal();
        if (consumedAny && now - lastInitiationConsumedNanos <= t.handshakeInitiationRate()) {
            return DropReason.WG_HANDSHAKE_FLOOD.ordinal();
        }
        wipeEphemeral();
        hash = Blake2s.hash(who.hash(), Arrays.copyOfRange(msg, InitiationMessage.TIMESTAMP, InitiationMessage.TIMESTAMP + 28));
        chainKey = k[0];
        remoteIndex = Le.getInt(msg, InitiationMessage.SENDER);
        remoteEphemeral = who.ephemeral();
        lastTimestamp = timestamp;
        lastInitiationConsumedNanos = now;
        consumedAny = true;
        state = State.INITIATION_CONSUMED;
        return -1;
    }

    /** Builds the response (92 bytes, macs left zero) to the consumed initiation, {@code index} as sender; null if impossible. */
    byte[] createResponse(int index) {
        if (state != State.INITIATION_CONSUMED) return null;
        byte[] e = X25519.generatePrivateKey();
        byte[] ePub = X25519.publicKey(e);
        byte[] h = Blake2s.hash(hash, ePub);
        byte[] ck = Hkdf.kdf1(chainKey, ePub);
        byte[] ee = X25519.sharedSecret(e, remoteEphemeral);
        if (ee == null) return null;
        ck = Hkdf.kdf1(ck, ee);
        byte[] se = X25519.sharedSecret(e, remoteStatic);
        if (se == null) return null;
        ck = Hkdf.kdf1(ck, se);
        byte[][] k = Hkdf.kdf(3, ck, presharedKey);
        ck = k[0];
        h = Blake2s.hash(h, k[1]);
        byte[] empty = Aead.seal(k[2], 0, EMPTY, h);
        h = Blake2s.hash(h, empty);

        byte[] msg = new byte[ResponseMessage.LEN];
        Le.putInt(msg, 0, MessageType.RESPONSE);
        Le.putInt(msg, ResponseMessage.SENDER, index);
        Le.putInt(msg, ResponseMessage.RECEIVER, remoteIndex);
        System.arraycopy(ePub, 0, msg, ResponseMessage.EPHEMERAL, 32);
        System.arraycopy(empty, 0, msg, ResponseMessage.EMPTY, 16);

        X25519.wipe(e);
        hash = h;
        chainKey = ck;
        localIndex = index;
        state = State.RESPONSE_CREATED;
        return msg;
    }

    /** The initiator consumes the response to its initiation; false when it does not authenticate. */
    boolean consumeResponse(byte[] msg) {
        if (state != State.INITIATION_CREATED) return false;
        byte[] ePub = Arrays.copyOfRange(msg, ResponseMessage.EPHEMERAL, ResponseMessage.EPHEMERAL + 32);
        byte[] h = Blake2s.hash(hash, ePub);
        byte[] ck = Hkdf.kdf1(chainKey, ePub);
        byte[] ee = X25519.sharedSecret(localEphemeral, ePub);
        if (ee == null) return false;
        ck = Hkdf.kdf1(ck, ee);
        byte[] se = ourKey.sharedSecret(ePub);
        if (se == null) return false;
        ck = Hkdf.kdf1(ck, se);
        byte[][] k = Hkdf.kdf(3, ck, presharedKey);
        ck = k[0];
        h = Blake2s.hash(h, k[1]);
        if (Aead.open(k[2], 0, msg, ResponseMessage.EMPTY, 16, h) == null) return false;
        h = Blake2s.hash(h, Arrays.copyOfRange(msg, ResponseMessage.EMPTY, ResponseMessage.EMPTY + 16));
        hash = h;
        chainKey = ck;
        remoteIndex = Le.getInt(msg, ResponseMessage.SENDER);
        state = State.RESPONSE_CONSUMED;
        return true;
    }

    /**
     * Derives the session keys from a completed exchange (response consumed: we are the initiator;
     * response created: the responder) and zeroes the handshake. Null in any other state.
     */
    Keypair deriveKeypair(WireGuardPeer peer, long now) {
        boolean initiator;
        if (state == State.RESPONSE_CONSUMED) {
            initiator = true;
        } else if (state == State.RESPONSE_CREATED) {
            initiator = false;
        } else {
            return null;
        }
        byte[][] k = Hkdf.kdf(2, chainKey, EMPTY);
        TransportCipher cipher = peer.device().config().transportCipher();
        Keypair kp = initiator
                ? new Keypair(peer, k[0], k[1], cipher, true, now, localIndex, remoteIndex)
                : new Keypair(peer, k[1], k[0], cipher, false, now, localIndex, remoteIndex);
        X25519.wipe(k[0]);
        X25519.wipe(k[1]);
        clear();
        return kp;
    }

    /** Forgets the exchange in progress (keeps the replay timestamp and the flood clock). */
    void clear() {
        wipeEphemeral();
        X25519.wipe(chainKey);
        chainKey = null;
        hash = null;
        remoteEphemeral = null;
        localIndex = 0;
        state = State.ZEROED;
    }

    private void wipeEphemeral() {
        X25519.wipe(localEphemeral);
        localEphemeral = null;
    }
}
