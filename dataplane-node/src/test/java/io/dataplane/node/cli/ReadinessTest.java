package io.dataplane.node.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** /readyz's checks: asked ones and gates, in the order added, in Kubernetes' verbose form. No root needed. */
class ReadinessTest {

    @Test
    void readyOnlyWhenEveryCheckAndGateHolds() {
        Readiness r = new Readiness();
        AtomicReference<String> device = new AtomicReference<>("flannel.1 is down");
        r.add("device", device::get);
        Readiness.Gate peers = r.gate("peers", "not loaded yet");
        Readiness.Gate lease = r.gate("lease", "no lease yet");

        assertFalse(Readiness.ready(r.results()));
        assertEquals("""
                [-]device failed: flannel.1 is down
                [-]peers failed: not loaded yet
                [-]lease failed: no lease yet
                readyz check failed
                """, Readiness.text(r.results()));

        device.set(null);
        peers.open();
        assertFalse(Readiness.ready(r.results()), "the lease gate is still closed");
        lease.open();
        assertTrue(Readiness.ready(r.results()));
        assertEquals("""
                [+]device ok
                [+]peers ok
                [+]lease ok
                readyz check passed
                """, Readiness.text(r.results()));

        lease.close("lease 10.244.1.0/24 expired");
        assertEquals("[-]lease failed: lease 10.244.1.0/24 expired", r.results().get(2).line());
        assertFalse(Readiness.ready(r.results()));
    }

    @Test
    void aCheckThatThrowsFailsWithTheExceptionAndANameIsTakenOnce() {
        Readiness r = new Readiness();
        r.add("device", () -> {
            throw new IllegalStateException("netlink closed");
        });
        assertEquals("[-]device failed: check failed: java.lang.IllegalStateException: netlink closed", r.results().getFirst().line());
        assertThrows(IllegalArgumentException.class, () -> r.gate("device", "again"));
    }
}
