package io.dataplane.tun.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.extension.AnnotatedElementContext;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.io.TempDirFactory;

/**
 * JUnit's {@code @TempDir}, held in {@link Leftovers} from its creation until JUnit has deleted it,
 * so that the state a killed test's nodes wrote there goes too. A module makes it the default with
 * {@code junit.jupiter.tempdir.factory.default=io.dataplane.tun.testing.HeldTempDir} in its
 * {@code junit-platform.properties}.
 */
public final class HeldTempDir implements TempDirFactory {
    private Leftovers.Hold hold;

    @Override
    public Path createTempDirectory(AnnotatedElementContext element, ExtensionContext context) throws IOException {
        Path dir = Files.createTempDirectory("junit-");
        hold = Leftovers.path(dir);
        return dir;
    }

    /** Called by JUnit after it deleted the directory. */
    @Override
    public void close() {
        if (hold != null) hold.release();
    }
}
