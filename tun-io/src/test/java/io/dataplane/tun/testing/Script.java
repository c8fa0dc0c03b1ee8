package io.dataplane.tun.testing;

import java.util.Arrays;

/** The fuzzer's input read front to back; zeros once it is spent. */
final class Script {
    private final byte[] b;
    private int at;

    Script(byte[] b) {
        this.b = b;
    }

    boolean more() {
        return at < b.length;
    }

    int u8() {
        return at < b.length ? b[at++] & 0xff : 0;
    }

    int u16() {
        return u8() << 8 | u8();
    }

    int u32() {
        return u16() << 16 | u16();
    }

    byte[] bytes(int n) {
        int k = Math.min(n, b.length - at);
        byte[] r = Arrays.copyOfRange(b, at, at + k);
        at += k;
        return r;
    }
}
