package io.dataplane.wireguard;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * {@link TransportCipher#JDK}: transport data through the JDK's ChaCha20-Poly1305, one cipher per
 * thread and direction. The JDK refuses to encrypt twice with the same key and nonce on one cipher
 * object, which never happens here: every counter is handed out once per keypair.
 */
final class JdkTransportCipher {
    private static final ThreadLocal<JdkTransportCipher> PER_THREAD = ThreadLocal.withInitial(JdkTransportCipher::new);

    private final Cipher encrypt;
    private final Cipher decrypt;
    private final byte[] nonce = new byte[12];

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

    /** Seals {@code seg[off, off+len)} in place and writes the tag after it. */
    static void seal(SecretKeySpec key, long counter, MemorySegment seg, long off, int len) {
        JdkTransportCipher c = PER_THREAD.get();
        try {
            c.encrypt.init(Cipher.ENCRYPT_MODE, key, c.nonce(counter));
            ByteBuffer in = seg.asSlice(off, len).asByteBuffer();
            ByteBuffer out = seg.asSlice(off, len + MessageType.TAG_LEN).asByteBuffer();
            c.encrypt.doFinal(in, out);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("ChaCha20-Poly1305 seal failed: " + e.getClass().getSimpleName(), e);
        }
    }

    /** Opens {@code seg[off, off+len)} (tag after it) in place; false when the tag does not verify. */
    static boolean open(SecretKeySpec key, long counter, MemorySegment seg, long off, int len) {
        JdkTransportCipher c = PER_THREAD.get();
        try {
            c.decrypt.init(Cipher.DECRYPT_MODE, key, c.nonce(counter));
            ByteBuffer in = seg.asSlice(off, len + MessageType.TAG_LEN).asByteBuffer();
            ByteBuffer out = seg.asSlice(off, len).asByteBuffer();
            c.decrypt.doFinal(in, out);
            return true;
        } catch (AEADBadTagException e) {
            return false;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("ChaCha20-Poly1305 open failed: " + e.getClass().getSimpleName(), e);
        }
    }
}
