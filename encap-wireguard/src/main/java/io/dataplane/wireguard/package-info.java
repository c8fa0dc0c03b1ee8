/**
 * WireGuard (whitepaper, interoperable with wireguard-go): the Noise_IKpsk2 handshake, transport
 * data sealed and opened in place in the packet buffer, cookies under load, the protocol's timers,
 * cryptokey routing on the core's {@link io.dataplane.core.table.RouteTable}.
 *
 * <h2>Using it</h2>
 * <pre>
 *  NoisePrivateKey key = KeyFile.loadOrCreate(dir.resolve("wgkey"));     // 0600, kept across restarts
 *  RouteTable allowedIps = new RouteTable();                                // prefix -&gt; peer id
 *  WireGuardOutput out = p -&gt; transport.send(new PacketBuffer[] {p}, 1);    // rare: handshakes, keepalives
 *  WireGuardDevice wg = new WireGuardDevice(WireGuardConfig.of(key), allowedIps, pool, out);
 *  WireGuardPeer peer = wg.addPeer(PeerConfig.of(NoisePublicKey.parse(lease.publicKey()),
 *          lease.publicIp(), lease.port(), List.of(lease.subnet())));       // allowed IPs go into the table
 *  new Pipeline(tun, transport, wg, allowedIps, pool, ring);                // encap next hop = peer id
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
 * BouncyCastle, ChaCha20-Poly1305 from the JDK for handshake messages and our own allocation-free
 * implementation over MemorySegment for transport data (the JDK's allocates about 4 KiB per packet
 * and throws on a forged one; see {@link io.dataplane.wireguard.crypto.ChaCha20Poly1305}).
 */
package io.dataplane.wireguard;
