package io.dataplane.core.table;

import io.dataplane.core.wire.Ipv4Prefix;
import java.util.random.RandomGenerator;

/**
 * Random prefixes with the mix of lengths the route table tests need: many host routes, short
 * prefixes up to the default route, everything in between, and clusters in a few /16s so that some
 * subtrees grow deep and wide.
 */
final class RandomPrefixes {
    private static final int[] HOT_16 = {0x0af40000, 0xc0a80000, 0x0a000000, 0xffff0000, 0x00000000};

    private RandomPrefixes() {}

    static Ipv4Prefix next(RandomGenerator random) {
        int kind = random.nextInt(100);
        int length;
        int address;
        if (kind < 25) {
            length = 32;
            address = random.nextInt();
        } else if (kind < 26) {
            length = random.nextInt(9); // 0..8: few distinct ones, so mostly replacements
            address = random.nextInt();
        } else if (kind < 40) {
            length = 9 + random.nextInt(8); // 9..16
            address = random.nextInt();
        } else if (kind < 95) {
            length = 17 + random.nextInt(15); // 17..31
            address = random.nextInt();
        } else {
            length = 17 + random.nextInt(16); // 17..32 inside a hot /16
            address = HOT_16[random.nextInt(HOT_16.length)] | (random.nextInt() & 0xffff);
        }
        return Ipv4Prefix.containing(address, length);
    }
}
