/**
 * Wire formats: flyweight views over {@link java.lang.foreign.MemorySegment} for the headers a
 * flannel-style overlay carries ({@link io.dataplane.core.wire.EthernetHeader},
 * {@link io.dataplane.core.wire.Ipv4Header}, {@link io.dataplane.core.wire.UdpHeader},
 * {@link io.dataplane.core.wire.VxlanHeader}, {@link io.dataplane.core.wire.Icmpv4Header},
 * {@link io.dataplane.core.wire.ArpPacket}, and {@link io.dataplane.core.wire.TcpHeader} for the TCP
 * offloads), a {@code record XxxRepr} per header but TCP's with
 * {@code parse(view)} and {@code emit(view)} for the slow path, the Internet checksum
 * ({@link io.dataplane.core.wire.InternetChecksum}), the TCP offload's two halves in user space
 * ({@link io.dataplane.core.wire.TcpSegments} cuts a TSO super-packet into its segments' headers,
 * {@link io.dataplane.core.wire.TcpCoalescer} joins received segments into one), and the value types
 * {@link io.dataplane.core.wire.Ipv4Address}, {@link io.dataplane.core.wire.Ipv4Prefix} and
 * {@link io.dataplane.core.wire.MacAddress}.
 *
 * <h2>Untrusted input: the validate contract</h2>
 *
 * <p>Every view has exactly one entry point for bytes from the network or the TUN:
 * {@code int validate(int available)}, called after {@code wrap(segment, offset)}, where
 * {@code available} is how many bytes the enclosing layer says it has from the offset on (the
 * frame length, the IPv4 payload length, the UDP payload length). For every content of the
 * segment, every offset and every {@code available} (negative counts as 0, more than the segment
 * holds counts as what it holds) it:
 * <ul>
 *   <li>returns {@code VALID} ({@code -1}) or the {@link io.dataplane.core.stats.DropReason#ordinal()
 *       ordinal} of the reason to drop the packet, never anything else;</li>
 *   <li>never throws and never reads outside the segment or beyond {@code available};</li>
 *   <li>on {@code VALID}, guarantees that every accessor of the view, the checksum methods given the
 *       validated lengths, and the Repr's {@code parse} stay within the bytes available.</li>
 * </ul>
 * {@link io.dataplane.core.wire.TcpHeader} alone answers {@code checkLen(available)} with true or
 * false under the same rules, since no packet is dropped for its TCP header.
 * Accessors never check again, so on a view that was not validated only the segment's own bounds
 * check guards the reads (an {@link IndexOutOfBoundsException} is then a bug in the caller). Each
 * view's Javadoc lists the setters that invalidate an earlier validation (those of length and type
 * fields). Checksums are not part of validation: verify them separately where the protocol asks.
 *
 * <p>Views are not thread-safe; a worker keeps one of each and re-points it per packet. Byte order
 * is network order throughout; 8- and 16-bit fields are returned as non-negative {@code int}s,
 * IPv4 addresses as {@code int} and MAC addresses as the low 48 bits of a {@code long}.
 */
package io.dataplane.core.wire;
