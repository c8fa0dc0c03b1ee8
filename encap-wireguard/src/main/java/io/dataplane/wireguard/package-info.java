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
 * one of four {@link io.dataplane.wireguard.TransportCipher}s, all byte-identical:
 * <ul>
 *   <li>{@code VECTOR}, the default where the JVM has the incubating Vector API
 *       ({@code --add-modules jdk.incubator.vector}) and the CPU 256-bit vectors: our own in place
 *       over the packet's MemorySegment ({@link io.dataplane.wireguard.crypto.VectorChaCha20Poly1305}),
 *       ChaCha20 one block per int lane (16 blocks a pass with AVX-512), Poly1305 one accumulator
 *       per long lane with powers of {@code r} for the bulk of a packet and 64-bit limbs for the
 *       rest. No allocation and no copy at any size, and faster than the JDK's intrinsified cipher
 *       at every size, because it has no per-packet init.
 *   <li>{@code SEGMENT}: the same in scalar Java
 *       ({@link io.dataplane.wireguard.crypto.ChaCha20Poly1305}): no allocation, no copy, no
 *       exception on a forged packet, and needs nothing from the JVM, but the slowest on full-size
 *       packets (ChaCha20 one block at a time is most of its cost).
 *   <li>{@code JDK}: the JDK's cipher with its AVX-512 intrinsics on a per-thread heap array the
 *       payload is copied into and back, with a fixed cost and about 2.2 KiB allocated per packet
 *       inside {@code Cipher.init}, which no public API avoids (the nonce changes with every
 *       packet, only init takes one, and the JDK has no public Poly1305 to pair with its plain
 *       ChaCha20 cipher, whose init allocates as well).
 *   <li>{@code BY_SIZE}, the default without the Vector API: {@code SEGMENT} below 256 bytes,
 *       where the JDK's fixed cost loses, {@code JDK} from 256 bytes up; it allocates and copies
 *       for payloads of 256 bytes and more.
 * </ul>
 * Numbers and commands: benchmarks/README.md.
 */
package io.dataplane.wireguard;
