package io.dataplane.wireguard;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.security.GeneralSecurityException;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * {@link TransportCipher#JDK}: transport data through the JDK's ChaCha20-Poly1305, one cipher per
 * thread and direction, over a per-thread heap array.
 *
 * <p>Why a copy into a heap array: the JDK's ChaCha20-Poly1305 (JDK 25) has no in-place path for
 * off-heap memory. Its {@code doFinal(ByteBuffer, ByteBuffer)} copies a direct buffer's bytes into
 * a fresh array and back (an allocation per packet that grows with its size), while its array path
 * works in place. Copying the packet into a reused array and back costs two memory copies and
 * leaves only what {@code init} allocates: each init builds a new engine and a new Poly1305 with its
 * field elements, a 1 KiB buffer for the one-time key and copies of the key and the nonce, per
 * packet whatever its size. No public API avoids that: the nonce changes with every packet, and
 * only init takes a nonce.
 *
 * <p>The JDK refuses to encrypt twice with the same key and nonce on one cipher object, which never
 * happens here: every counter is handed out once per keypair. A forged packet makes the decrypting
 * cipher throw {@link AEADBadTagException}, caught here and turned into a false.
 */
final class JdkTransportCipher {
    private static final ThreadLocal<JdkTransportCipher> PER_THREAD = ThreadLocal.withInitial(JdkTransportCipher::new);

    private final Cipher encrypt;
    private final Cipher decrypt;
    private final byte[] nonce = new byte[12];
    private byte[] array = new byte[2048];

    private JdkTransportCipher() {
        try {
            encrypt = Cipher.getInstance("ChaCha20-Poly1305");
            decrypt = Cipher.getInstance("ChaCha20-Poly1305");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("ChaCha20-Poly1305 unavailable in this JDK: " + e.getMessage(), e);
        }
    }

    private IvParameterSpec nonce(long counter) {
        for (int i = 0; i < 8; i++) nonce[4 + i] = (byte) (counter >>> (8 * i));
        return new IvParameterSpec(nonce);
    }

    /** The thread's array, grown (rarely: jumbo MTUs) to hold {@code size} bytes. */
    private byte[] array(int size) {
        if (array.length < size) array = new byte[Math.max(size, 2 * array.length)];
        return array;
    }

    /** Seals {@code seg[off, off+len)} in place and writes the tag after it. */
    static void seal(SecretKeySpec key, long counter, MemorySegment seg, long off, int len) {
        JdkTransportCipher c = PER_THREAD.get();
        byte[] a = c.array(len + MessageType.TAG_LEN);
        MemorySegment.copy(seg, ValueLayout.JAVA_BYTE, off, a, 0, len);
        try {
            c.encrypt.init(Cipher.ENCRYPT_MODE, key, c.nonce(counter));
            c.encrypt.doFinal(a, 0, len, a, 0);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("ChaCha20-Poly1305 seal failed: " + e.getClass().getSimpleName(), e);
        }
        MemorySegment.copy(a, 0, seg, ValueLayout.JAVA_BYTE, off, len + MessageType.TAG_LEN);
    }

    /** Opens {@code seg[off, off+len)} (tag after it) in place; false, the data untouched, when the tag does not verify. */
    static boolean open(SecretKeySpec key, long counter, MemorySegment seg, long off, int len) {
        JdkTransportCipher c = PER_THREAD.get();
        byte[] a = c.array(len + MessageType.TAG_LEN);
        MemorySegment.copy(seg, ValueLayout.JAVA_BYTE, off, a, 0, len + MessageType.TAG_LEN);
        try {
            c.decrypt.init(Cipher.DECRYPT_MODE, key, c.nonce(counter));
            c.decrypt.doFinal(a, 0, len + MessageType.TAG_LEN, a, 0);
        } catch (AEADBadTagException e) {
            return false;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("ChaCha20-Poly1305 open failed: " + e.getClass().getSimpleName(), e);
        }
        MemorySegment.copy(a, 0, seg, ValueLayout.JAVA_BYTE, off, len);
        return true;
    }
}
