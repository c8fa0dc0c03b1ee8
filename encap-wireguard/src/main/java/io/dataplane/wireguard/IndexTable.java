package io.dataplane.wireguard;

import java.security.SecureRandom;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Our local session indices (the "sender" of our handshake messages, the "receiver" of the peer's
 * transport messages) and what each one names: a peer's handshake in progress, or a keypair.
 *
 * <p>We choose the indices, so an index carries its slot: the low {@code slotBits} bits are a slot
 * number and the rest are random, which makes the receive path's lookup one array read and one
 * compare, with no hashing, no boxing and no lock. A freed slot is reused with new random bits, so
 * a stale index does not match its slot's new owner.
 *
 * <p>Threads: lookups from any thread, lock-free (acquire reads of an {@link
 * AtomicReferenceArray}). Allocation and removal lock the table; they happen once per handshake.
 */
final class IndexTable {
    /** What an index names: {@code target} is a {@link WireGuardPeer} (handshake) or a {@link Keypair}. */
    record Entry(int index, Object target) {}

    private final AtomicReferenceArray<Entry> slots;
    private final int slotMask;
    private final int[] freeSlots;
    private int freeCount;
    private final SecureRandom random = new SecureRandom();

    /** A table of {@code 2^slotBits} slots. */
    IndexTable(int slotBits) {
        if (slotBits < 1 || slotBits > 24) throw new IllegalArgumentException("slotBits out of range: " + slotBits + " (1-24)");
        int n = 1 << slotBits;
        slots = new AtomicReferenceArray<>(n);
        slotMask = n - 1;
        freeSlots = new int[n];
        // Hand out slots in a random order so that indices do not reveal how many sessions exist.
        for (int i = 0; i < n; i++) freeSlots[i] = i;
        for (int i = n - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = freeSlots[i];
            freeSlots[i] = freeSlots[j];
            freeSlots[j] = t;
        }
        freeCount = n;
    }

    /** A new index naming {@code target}, or 0 with nothing changed when every slot is taken. */
    synchronized int allocate(Object target) {
        if (freeCount == 0) return 0;
        int slot = freeSlots[--freeCount];
        int index;
        do {
            index = (random.nextInt() & ~slotMask) | slot;
        } while (index == 0); // 0 means "none" throughout this package
        slots.setRelease(slot, new Entry(index, target));
        return index;
    }

    /** Points an existing index at a new target (a handshake's index becomes its keypair's). */
    synchronized void replace(int index, Object target) {
        if (index == 0) return;
        int slot = index & slotMask;
        Entry e = slots.getPlain(slot);
        if (e != null && e.index == index) slots.setRelease(slot, new Entry(index, target));
    }

    /** Frees {@code index}; nothing when it is 0 or not allocated. */
    synchronized void remove(int index) {
        if (index == 0) return;
        int slot = index & slotMask;
        Entry e = slots.getPlain(slot);
        if (e != null && e.index == index) {
            slots.setRelease(slot, null);
            freeSlots[freeCount++] = slot;
        }
    }

    /** What {@code index} names, or null. Lock-free and allocation-free. */
    Object lookup(int index) {
        Entry e = slots.getAcquire(index & slotMask);
        return e != null && e.index == index ? e.target : null;
    }

    /** Indices in use. */
    synchronized int size() {
        return slots.length() - freeCount;
    }
}
