package io.dataplane.wireguard;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.spi.Encapsulation;
import io.dataplane.core.stats.DropReason;

/**
 * The receive side of handshake messages (types 1, 2 and 3), wireguard-go's RoutineHandshake:
 * mac1 first, then under load mac2 or a cookie reply and a per-source rate limit, then the Noise
 * step. An initiation is answered in its own buffer (the response, {@link Encapsulation#REPLY});
 * a consumed response turns its buffer into the first keepalive, which confirms the session to the
 * responder.
 *
 * <p>Threads: the receive thread only (it owns the load window). Peer state is changed under the
 * peer's lock.
 */
final class HandshakeReceiver {
    private final WireGuardDevice device;
    private final CookieChecker cookieChecker;
    private final HandshakeRateLimiter rateLimiter = new HandshakeRateLimiter();
    private boolean windowStarted;
    private long windowStart;
    private int windowCount;
    private long underLoadUntil;
    private boolean everUnderLoad;

    HandshakeReceiver(WireGuardDevice device) {
        this.device = device;
        this.cookieChecker = new CookieChecker(device.publicKey());
    }

    /** True while the device asks for cookies: more handshake messages per second than the threshold, and for a while after. */
    boolean underLoad(long now) {
        return everUnderLoad && now - underLoadUntil < 0;
    }

    private void countLoad(long now) {
        WireGuardTimings t = device.timings();
        if (!windowStarted || now - windowStart >= 1_000_000_000L) {
            windowStarted = true;
            windowStart = now;
            windowCount = 0;
        }
        windowCount++;
        if (windowCount > device.config().handshakeLoadThreshold()) {
            underLoadUntil = now + Math.max(t.underLoadAfterTime(), 1);
            everUnderLoad = true;
        }
    }

    /** Handles a handshake message of {@code type} in {@code p}; returns a verdict as {@link Encapsulation#decap}. */
    int receive(PacketBuffer p, int type, long now) {
        int len = p.length();
        int expected = type == MessageType.INITIATION ? MessageType.INITIATION_LEN
                : type == MessageType.RESPONSE ? MessageType.RESPONSE_LEN : MessageType.COOKIE_REPLY_LEN;
        if (len != expected) return DropReason.WG_BAD_MESSAGE.ordinal();
        countLoad(now);
        byte[] msg = p.toByteArray();
        if (type == MessageType.COOKIE_REPLY) return cookieReply(p, msg, now);

        if (!cookieChecker.checkMac1(msg)) return DropReason.WG_BAD_MAC1.ordinal();
        int srcAddress = p.peerAddress();
        int srcPort = p.peerPort();
        if (underLoad(now)) {
            byte[] source = CookieChecker.source(srcAddress, srcPort);
            if (!cookieChecker.checkMac2(msg, source, now, device.timings())) {
                int sender = Le.getInt(msg, InitiationMessage.SENDER); // same offset in both messages
                p.put(cookieChecker.createReply(msg, sender, source, now, device.timings()));
                device.countDrop(DropReason.WG_COOKIE_REQUIRED);
                return Encapsulation.REPLY;
            }
            if (!rateLimiter.allow(srcAddress, now)) return DropReason.WG_HANDSHAKE_FLOOD.ordinal();
        }
        return type == MessageType.INITIATION ? initiation(p, msg, now) : response(p, msg, now);
    }

    private int initiation(PacketBuffer p, byte[] msg, long now) {
        NoiseHandshake.Initiator who = NoiseHandshake.decryptInitiator(device.config().privateKey(), msg);
        if (who == null) return DropReason.WG_BAD_HANDSHAKE.ordinal();
        WireGuardPeer peer = device.peer(who.publicKey());
        if (peer == null || peer.removed()) return DropReason.WG_BAD_HANDSHAKE.ordinal();
        WireGuardTimings t = device.timings();
        byte[] response;
        peer.lock.lock();
        try {
            int verdict = peer.handshake.consumeInitiation(msg, who, now, t);
            if (verdict >= 0) return verdict;
            peer.timers.anyAuthenticatedPacketTraversal(now);
            peer.timers.anyAuthenticatedPacketReceived();
            peer.setEndpoint(p.peerAddress(), p.peerPort());
            peer.markHandshakeSent(now);
            IndexTable table = device.indexTable();
            table.remove(peer.handshake.localIndex);
            peer.handshake.localIndex = 0;
            int index = table.allocate(peer);
            if (index == 0) {
                peer.handshake.clear();
                return DropReason.WG_BAD_HANDSHAKE.ordinal();
            }
            response = peer.handshake.createResponse(index);
            if (response == null) {
                table.remove(index);
                peer.handshake.clear();
                return DropReason.WG_BAD_HANDSHAKE.ordinal();
            }
            peer.cookieGenerator.addMacs(response, now, t);
            peer.installKeypair(now);
        } finally {
            peer.lock.unlock();
        }
        peer.timers.sessionDerived(now);
        peer.timers.anyAuthenticatedPacketTraversal(now);
        peer.timers.anyAuthenticatedPacketSent();
        p.put(response);
        return Encapsulation.REPLY;
    }

    private int response(PacketBuffer p, byte[] msg, long now) {
        int receiver = Le.getInt(msg, ResponseMessage.RECEIVER);
        if (!(device.indexTable().lookup(receiver) instanceof WireGuardPeer peer) || peer.removed()) {
            return DropReason.WG_UNKNOWN_RECEIVER.ordinal();
        }
        peer.lock.lock();
        try {
            if (peer.handshake.localIndex != receiver || !peer.handshake.consumeResponse(msg)) {
                return DropReason.WG_BAD_HANDSHAKE.ordinal();
            }
            peer.setEndpoint(p.peerAddress(), p.peerPort());
            peer.timers.anyAuthenticatedPacketTraversal(now);
            peer.timers.anyAuthenticatedPacketReceived();
            if (peer.installKeypair(now) == null) return DropReason.WG_BAD_HANDSHAKE.ordinal();
        } finally {
            peer.lock.unlock();
        }
        peer.timers.sessionDerived(now);
        peer.handshakeComplete();
        // The first transport message confirms the session to the responder: staged data if there
        // is any, else a keepalive written into this very buffer.
        if (peer.stagedPackets() > 0) {
            p.release();
            peer.sendStaged(now);
            return Encapsulation.CONSUMED;
        }
        p.setData(p.pool().headroom(), 0);
        int v = peer.send(p, now);
        return v == Encapsulation.FORWARD ? Encapsulation.REPLY : v;
    }

    private int cookieReply(PacketBuffer p, byte[] msg, long now) {
        Object target = device.indexTable().lookup(Le.getInt(msg, CookieReplyMessage.RECEIVER));
        WireGuardPeer peer = target instanceof WireGuardPeer wp ? wp : target instanceof Keypair kp ? kp.peer : null;
        if (peer == null || peer.removed()) return DropReason.WG_UNKNOWN_RECEIVER.ordinal();
        if (!peer.cookieGenerator.consumeReply(msg, now)) return DropReason.WG_BAD_COOKIE.ordinal();
        p.release();
        return Encapsulation.CONSUMED;
    }
}
