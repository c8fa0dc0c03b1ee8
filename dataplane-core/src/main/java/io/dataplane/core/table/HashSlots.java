package io.dataplane.core.table;

/**
 * An immutable open-addressing hash map from non-negative {@code long} keys to non-negative {@code
 * long} values, laid out in one {@code long[]}: slot {@code i} is {@code key} at {@code 2i} and
 * {@code value} at {@code 2i + 1}, so a probe touches one cache line. Empty slots hold key {@link
 * #EMPTY}; linear probing; at most half the slots are used, so a miss ends quickly.
 *
 * <p>Every change returns a new array (copy-on-write): a table that publishes the array through a
 * volatile field gives its readers lock-free, allocation-free lookups that never see a change half
 * done. Changes cost O(size), which is right for tables the control plane writes a few times per
 * peer and the packet path reads millions of times a second.
 */
final class HashSlots {
    /** Key of an empty slot, and what {@link #get} returns for a missing key. */
    static final long EMPTY = -1;
    /** The empty map. */
    static final long[] NONE = newSlots(8);

    private HashSlots() {}

    /** The value of {@code key} in {@code slots}, or {@link #EMPTY}. Allocation-free. */
    static long get(long[] slots, long key) {
        int mask = (slots.length >>> 1) - 1;
        for (int i = home(key, mask); ; i = (i + 1) & mask) {
            long k = slots[2 * i];
            // EMPTY first, so that asking for the key EMPTY itself misses instead of matching a hole.
            if (k == EMPTY) return EMPTY;
            if (k == key) return slots[2 * i + 1];
        }
    }

    /** A copy of {@code slots} (holding {@code size} keys) with {@code key} mapped to {@code value}. */
    static long[] put(long[] slots, int size, long key, long value) {
        long[] copy = (size + 1) * 2 > slots.length >>> 1 ? grow(slots) : slots.clone();
        insert(copy, key, value);
        return copy;
    }

    /** A copy of {@code slots} without {@code key}, rebuilt so probe chains stay unbroken. */
    static long[] remove(long[] slots, int size, long key) {
        int capacity = slots.length >>> 1;
        // Shrink when a quarter full or less, but never below the starting size.
        int newCapacity = capacity > 8 && (size - 1) * 4 <= capacity ? capacity >>> 1 : capacity;
        long[] copy = newSlots(newCapacity);
        for (int i = 0; i < slots.length; i += 2) {
            if (slots[i] != EMPTY && slots[i] != key) insert(copy, slots[i], slots[i + 1]);
        }
        return copy;
    }

    /** Calls {@code action} with every key and value. */
    static void forEach(long[] slots, Entry action) {
        for (int i = 0; i < slots.length; i += 2) {
            if (slots[i] != EMPTY) action.accept(slots[i], slots[i + 1]);
        }
    }

    /** Receives one entry of {@link #forEach}. */
    interface Entry {
        void accept(long key, long value);
    }

    /** A copy with twice the capacity ({@code slots.length} is two longs per slot). */
    private static long[] grow(long[] slots) {
        long[] copy = newSlots(slots.length);
        for (int i = 0; i < slots.length; i += 2) {
            if (slots[i] != EMPTY) insert(copy, slots[i], slots[i + 1]);
        }
        return copy;
    }

    private static void insert(long[] slots, long key, long value) {
        int mask = (slots.length >>> 1) - 1;
        int i = home(key, mask);
        while (slots[2 * i] != EMPTY && slots[2 * i] != key) i = (i + 1) & mask;
        slots[2 * i] = key;
        slots[2 * i + 1] = value;
    }

    private static long[] newSlots(int capacity) {
        long[] slots = new long[2 * capacity];
        for (int i = 0; i < slots.length; i += 2) slots[i] = EMPTY;
        return slots;
    }

    /** Fibonacci hashing: the multiply spreads every key bit into the high half, which we keep. */
    private static int home(long key, int mask) {
        return (int) ((key * 0x9E37_79B9_7F4A_7C15L) >>> 32) & mask;
    }
}
