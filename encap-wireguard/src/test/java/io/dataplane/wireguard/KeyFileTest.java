package io.dataplane.wireguard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KeyFileTest {
    @Test
    void createdOnceWithMode0600ThenKept(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("wgkey");
        NoisePrivateKey first = KeyFile.loadOrCreate(file);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        assertEquals(first.toBase64() + "\n", Files.readString(file));
        NoisePrivateKey again = KeyFile.loadOrCreate(file);
        assertEquals(first.publicKey(), again.publicKey());
    }

    @Test
    void aBrokenFileIsAnErrorThatNamesThePathButNotTheContents(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("wgkey");
        Files.writeString(file, "c2VjcmV0LWJ1dC1ub3QtYS1rZXk=\n");
        IOException e = assertThrows(IOException.class, () -> KeyFile.loadOrCreate(file));
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        assertFalse(e.getMessage().contains("c2VjcmV0LWJ1dC1ub3QtYS1rZXk"), e.getMessage());
    }

    @Test
    void aKeyFileOthersMayReadIsMadeOwnerOnly(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("wgkey");
        NoisePrivateKey key = NoisePrivateKey.generate();
        Files.writeString(file, key.toBase64() + "\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
        assertEquals(key.publicKey(), KeyFile.loadOrCreate(file).publicKey());
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
    }
}
