/**
 * WireGuard (whitepaper, interoperable with wireguard-go): the Noise_IKpsk2 handshake, transport
 * data sealed and opened in place in the packet buffer, cookies under load, the protocol's timers,
 * cryptokey routing on the core's {@link io.dataplane.core.table.RouteTable}.
 *
 * <h2>Using it</h2>
 * A node uses {@link io.dataplane.wireguard.WireGuardBackend}, flannel's wireguard backend, which
 * assembles what follows from net-conf.json and the peers' leases. By hand:
 * <pre>
 *  NoisePrivateKey key = KeyFile.loadOrCreate(dir.resolve("wgkey"));     // 0600, kept across restarts
 *  RouteTable allowedIps = new RouteTable();                                // prefix -&gt; peer id
 *  WireGuardOutput out = p -&gt; transport.send(new PacketBuffer[] {p}, 1);    // rare: handshakes, keepalives
 *  WireGuardDevice wg = new WireGuardDevice(WireGuardConfig.of(key), allowedIps, pool, out);
 *  WireGuardPeer peer = wg.addPeer(PeerConfig.of(NoisePublicKey.parse(lease.publicKey()),
 *          lease.publicIp(), lease.port(), List.of(lease.subnet())));       // allowed IPs go into the table
 *  Pipeline.start(PipelineConfig.of(tun, transport, wg, allowedIps, pool)); // encap next hop = peer id
 *  timer thread: every 50-100 ms, wg.tick()                                 // retries, keepalives, rekeys
 * </pre>
 *
 * <h2>Threads</h2>
 * <ul>
 *   <li>{@link io.dataplane.wireguard.WireGuardDevice#encap encap}: the TUN reader. Lock-free with a
 *       session: reads the peer's current keypair (volatile), takes a counter (atomic), seals in
 *       place. Without one it locks the peer to stage the packet and start a handshake.
 *   <li>{@link io.dataplane.wireguard.WireGuardDevice#decap decap}: one receive thread at a time. It
 *       owns the replay windows (single writer) and the load accounting; handshake messages lock
 *       the peer concerned.
 *   <li>{@link io.dataplane.wireguard.WireGuardDevice#tick tick}: one timer thread at a time (or the
 *       receive loop). Timer deadlines are atomics set by the other two threads.
 *   <li>addPeer/removePeer: any control-plane thread.
 *   <li>The {@link io.dataplane.wireguard.WireGuardOutput output} is called from all three and must
 *       be thread-safe (the core's Transport.send is).
 * </ul>
 *
 * <h2>Crypto</h2>
 * X25519 from the JDK (raw keys converted as RFC 7748 says), BLAKE2s and XChaCha20-Poly1305 from
 * BouncyCastle, ChaCha20-Poly1305 from the JDK for handshake messages. Transport data goes through
 * one of three {@link io.dataplane.wireguard.TransportCipher}s, all byte-identical:
 * <ul>
 *   <li>{@code SEGMENT}: our own ChaCha20-Poly1305 in place over the packet's MemorySegment
 *       ({@link io.dataplane.wireguard.crypto.ChaCha20Poly1305}): no allocation, no copy, no
 *       exception on a forged packet, but scalar Java: about 3.8 us to seal 1408 bytes here.
 *       Interleaving two ChaCha blocks made it slower (the 16-word state of two blocks no longer
 *       fits the registers), and 44-bit Poly1305 limbs were no faster than 26-bit ones.
 *   <li>{@code JDK}: the JDK's cipher with its AVX-512 intrinsics on a per-thread heap array the
 *       payload is copied into and back: about 1.3 us for 1408 bytes, but a fixed 0.8 us and
 *       2.2 KiB allocated per packet inside {@code Cipher.init}, which no public API avoids (the
 *       nonce changes with every packet, and only init takes one).
 *   <li>{@code BY_SIZE}, the default: ours below 256 bytes, where the JDK's fixed cost loses, the
 *       JDK's from 256 bytes up. End to end it carried about 1.25x the TCP throughput of {@code
 *       SEGMENT} and as many 64-byte packets per second. It bends two house rules
 *       for payloads of 256 bytes and more: an allocation per packet (about 2.2 KiB, young garbage)
 *       and a copy of the payload into a heap array and back. Numbers and commands:
 *       benchmarks/README.md.
 * </ul>
 */
package io.dataplane.wireguard;
