package io.dataplane.core.buffer;

import io.dataplane.core.table.PeerEntry;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One packet in off-heap memory: a fixed slot of a {@link PacketPool}, a data offset and a data length.
 *
 * <pre>
 *   0            offset()              offset() + length()            capacity()
 *   |-- headroom --|------- data -------|---------- tailroom -----------|
 * </pre>
 *
 * <p>A packet is read into the slot at the pool's headroom; encapsulation writes headers in front
 * of it with {@link #prepend} and decapsulation drops them with {@link #trimFront}: the bytes never
 * move. Header views read and write {@link #segment()} at {@code offset()} directly.
 *
 * <p>A buffer has exactly one owner at a time. Handing it to a ring or a transport hands over
 * ownership; whoever drops it calls {@link #release()}. With {@code -Ddataplane.buffer.checked=true}
 * (on in tests) every accessor checks that the buffer is owned, so use after release and double
 * release throw {@link IllegalStateException} instead of corrupting another packet.
 *
 * <p>Besides the data, a buffer carries the underlay endpoint of the datagram it came from or goes
 * to ({@link #peerAddress()}, {@link #peerPort()}) and that peer's {@link #peerEntry() entry}, a GSO segment size for super-packets, and whether an
 * encapsulation {@link #authenticated() authenticated} the data.
 */
public final class PacketBuffer {
    static final boolean CHECKED = Boolean.getBoolean("dataplane.buffer.checked");
    static final int FREE = 0;
    static final int OWNED = 1;
    private static final VarHandle STATE;

    static {
        try {
            STATE = MethodHandles.lookup().findVarHandle(PacketBuffer.class, "state", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final PacketPool pool;
    private final int index;
    private final MemorySegment segment;
    private final int capacity;
    private int offset;
    private int length;
    private int peerAddress;
    private int peerPort;
    private PeerEntry peerEntry;
    private int gsoSize;
    private int gsoPrefix;
    private boolean authenticated;
    private Object attachment;
    @SuppressWarnings("unused") // accessed through STATE
    private volatile int state = FREE;

    PacketBuffer(PacketPool pool, int index, MemorySegment segment) {
        this.pool = pool;
        this.index = index;
        this.segment = segment;
        this.capacity = (int) segment.byteSize();
    }

    /** The whole slot, from byte 0 to {@link #capacity()}; the packet starts at {@link #offset()}. */
    public MemorySegment segment() {
        if (CHECKED) checkOwned();
        return segment;
    }

    /** The native address of byte 0 of the slot (for system calls and Netty). */
    public long address() {
        if (CHECKED) checkOwned();
        return segment.address();
    }

    /** Size of the slot in bytes. */
    public int capacity() {
        return capacity;
    }

    /** Where the packet data starts within the slot; also the headroom left in front of it. */
    public int offset() {
        if (CHECKED) checkOwned();
        return offset;
    }

    /** Length of the packet data in bytes. */
    public int length() {
        if (CHECKED) checkOwned();
        return length;
    }

    /** Bytes free after the data. */
    public int tailroom() {
        if (CHECKED) checkOwned();
        return capacity - offset - length;
    }

    /** Sets where the data starts and how long it is. */
    public PacketBuffer setData(int offset, int length) {
        if (CHECKED) checkOwned();
        if (offset < 0 || length < 0 || offset > capacity - length) {
            throw new IndexOutOfBoundsException(
                    "data out of buffer: offset=" + offset + " length=" + length + " capacity=" + capacity);
        }
        this.offset = offset;
        this.length = length;
        return this;
    }

    /** Sets the data length, keeping the offset. */
    public PacketBuffer setLength(int length) {
        return setData(offset, length);
    }

    /**
     * Grows the data by {@code bytes} at the front (moves the offset back) so a header can be written
     * there. Returns false, changing nothing, when the headroom is too small.
     */
    public boolean prepend(int bytes) {
        if (CHECKED) checkOwned();
        if (bytes < 0 || bytes > offset) return false;
        offset -= bytes;
        length += bytes;
        return true;
    }

    /** Drops {@code bytes} from the front of the data (a decapsulated header). False if longer than the data. */
    public boolean trimFront(int bytes) {
        if (CHECKED) checkOwned();
        if (bytes < 0 || bytes > length) return false;
        offset += bytes;
        length -= bytes;
        return true;
    }

    /** Grows the data by {@code bytes} at the end (padding, a tag). False, changing nothing, if the tailroom is too small. */
    public boolean append(int bytes) {
        if (CHECKED) checkOwned();
        if (bytes < 0 || bytes > capacity - offset - length) return false;
        length += bytes;
        return true;
    }

    /** The underlay IPv4 address the datagram came from or goes to, as an int in network order of bits. */
    public int peerAddress() {
        if (CHECKED) checkOwned();
        return peerAddress;
    }

    /** The underlay UDP port the datagram came from or goes to (0 for raw IP). */
    public int peerPort() {
        if (CHECKED) checkOwned();
        return peerPort;
    }

    /** Sets the underlay endpoint, of no known peer entry. */
    public PacketBuffer setPeer(int address, int port) {
        if (CHECKED) checkOwned();
        this.peerAddress = address;
        this.peerPort = port;
        this.peerEntry = null;
        return this;
    }

    /**
     * The entry of the peer the datagram came from or goes to, where the encapsulation knows it
     * (it sets it with the endpoint), for the stages to count on; null otherwise.
     */
    public PeerEntry peerEntry() {
        if (CHECKED) checkOwned();
        return peerEntry;
    }

    /** Sets the entry of the peer at the underlay endpoint (null: none known). */
    public PacketBuffer setPeerEntry(PeerEntry entry) {
        if (CHECKED) checkOwned();
        this.peerEntry = entry;
        return this;
    }

    /** Segment size when the data is a GSO super-packet of several segments; 0 for one packet. */
    public int gsoSize() {
        if (CHECKED) checkOwned();
        return gsoSize;
    }

    /** Marks the data as a super-packet of {@code gsoSize}-byte segments (0: a single packet). */
    public PacketBuffer setGsoSize(int gsoSize) {
        if (CHECKED) checkOwned();
        this.gsoSize = gsoSize;
        return this;
    }

    /**
     * {@link #gsoPrefix()} of a train of datagrams ready to send: the data is the datagrams back to
     * back, each {@link #gsoSize()} bytes but the last, which may be shorter (what an encapsulation
     * that seals every segment on its own makes of a super-packet; sent with UDP GSO as they are).
     */
    public static final int TRAIN = -1;

    /**
     * For a super-packet on its way to a transport: the bytes of encapsulation in front of its
     * IPv4 header, which every segment repeats (0 before encapsulation, and for flannel's udp), or
     * {@link #TRAIN} when the data is already the datagrams.
     */
    public int gsoPrefix() {
        if (CHECKED) checkOwned();
        return gsoPrefix;
    }

    /** Sets the {@link #gsoPrefix()}. */
    public PacketBuffer setGsoPrefix(int gsoPrefix) {
        if (CHECKED) checkOwned();
        this.gsoPrefix = gsoPrefix;
        return this;
    }

    /**
     * True if the data was authenticated as a whole by the encapsulation it came out of (WireGuard's
     * AEAD): its TCP and UDP checksums need no check, as the kernel's WireGuard marks what it
     * decrypts {@code CHECKSUM_UNNECESSARY}. False for a buffer fresh from the pool.
     */
    public boolean authenticated() {
        if (CHECKED) checkOwned();
        return authenticated;
    }

    /** Sets {@link #authenticated()}. */
    public PacketBuffer setAuthenticated(boolean authenticated) {
        if (CHECKED) checkOwned();
        this.authenticated = authenticated;
        return this;
    }

    /**
     * An object a transport keeps with this buffer for the life of the pool, such as its own view
     * (a Netty ByteBuf) over the same memory. Survives release and acquire.
     */
    public Object attachment() {
        return attachment;
    }

    /** Sets the {@link #attachment()}. */
    public void attach(Object attachment) {
        this.attachment = attachment;
    }

    /** The pool this buffer belongs to. */
    public PacketPool pool() {
        return pool;
    }

    /** The slot number within the pool, stable for the buffer's life. */
    public int index() {
        return index;
    }

    /** True while some stage owns this buffer (between acquire and release). */
    public boolean isOwned() {
        return (int) STATE.getVolatile(this) == OWNED;
    }

    /** Returns the buffer to its pool; the caller must not touch it afterwards. */
    public void release() {
        pool.release(this);
    }

    /** Copies the data out (tests and the slow path only). */
    public byte[] toByteArray() {
        return segment().asSlice(offset, length).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
    }

    /** Copies {@code bytes} in as the data, at the current offset (tests and the slow path only). */
    public PacketBuffer put(byte[] bytes) {
        setLength(0);
        if (bytes.length > capacity - offset) {
            throw new IndexOutOfBoundsException("packet of " + bytes.length + " bytes does not fit: tailroom=" + (capacity - offset));
        }
        MemorySegment.copy(bytes, 0, segment, java.lang.foreign.ValueLayout.JAVA_BYTE, offset, bytes.length);
        length = bytes.length;
        return this;
    }

    /** Called by the pool on acquire: owned, data empty at the pool's headroom, no peer, no GSO, not authenticated. */
    void reset(int headroom) {
        if (!STATE.compareAndSet(this, FREE, OWNED)) {
            throw new IllegalStateException("buffer #" + index + " handed out twice");
        }
        offset = headroom;
        length = 0;
        peerAddress = 0;
        peerPort = 0;
        peerEntry = null;
        gsoSize = 0;
        gsoPrefix = 0;
        authenticated = false;
    }

    /** Called by the pool on release; throws if the buffer was not owned (double release). */
    void markFree() {
        if (!STATE.compareAndSet(this, OWNED, FREE)) {
            throw new IllegalStateException("double release of buffer #" + index);
        }
    }

    private void checkOwned() {
        if ((int) STATE.getOpaque(this) != OWNED) {
            throw new IllegalStateException("use of buffer #" + index + " after release");
        }
    }

    @Override
    public String toString() {
        return "PacketBuffer#" + index + "[offset=" + offset + " length=" + length + " capacity=" + capacity + "]";
    }
}
