package io.dataplane.node.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import org.junit.jupiter.api.Test;

/** The lease check of an etcd node's /readyz: held until its expiry, lost after it, held again once renewed. */
class EtcdNodeLeaseTest {
    static final Instant EXPIRY = Instant.parse("2026-12-07T12:00:00Z");

    @Test
    void aLeaseIsHeldUntilItExpires() {
        assertEquals("no lease yet", EtcdNode.leaseProblem(null, EXPIRY));
        assertNull(EtcdNode.leaseProblem(EXPIRY, EXPIRY.minusMillis(1)));
        assertEquals("lease expired at 2026-12-07T12:00:00Z (renewal failed)", EtcdNode.leaseProblem(EXPIRY, EXPIRY));
        assertEquals("lease expired at 2026-12-07T12:00:00Z (renewal failed)", EtcdNode.leaseProblem(EXPIRY, EXPIRY.plusSeconds(3600)));
    }

    @Test
    void readyzFailsWhileTheLeaseIsExpiredAndPassesOnceARenewalHoldsIt() {
        Instant[] expiry = {EXPIRY};
        Instant[] now = {EXPIRY.minusSeconds(60)};
        Readiness readiness = new Readiness();
        readiness.add("lease", () -> EtcdNode.leaseProblem(expiry[0], now[0]));
        assertTrue(Readiness.ready(readiness.results()));
        assertEquals("[+]lease ok\nreadyz check passed\n", Readiness.text(readiness.results()));

        now[0] = EXPIRY.plusSeconds(1); // every renewal failed until the lease ran out
        assertFalse(Readiness.ready(readiness.results()));
        assertEquals("[-]lease failed: lease expired at 2026-12-07T12:00:00Z (renewal failed)\nreadyz check failed\n",
                Readiness.text(readiness.results()));

        expiry[0] = now[0].plusSeconds(24 * 3600); // a renewal (a new lease) holds it again
        assertTrue(Readiness.ready(readiness.results()));
    }
}
