package io.dataplane.wireguard;

import java.time.Duration;

/**
 * The protocol's time and message limits (whitepaper section 6, wireguard-go's constants.go), in
 * nanoseconds. {@link #DEFAULT} holds the specified values; tests shorten them with the withers.
 *
 * @param rekeyAfterMessages an initiator starts a new handshake after sending this many messages
 * @param rejectAfterMessages a keypair sends and receives no more than this many (unsigned)
 * @param rekeyAfterTime an initiator starts a new handshake when its keypair is this old
 * @param rejectAfterTime a keypair this old is used for nothing
 * @param rekeyAttemptTime how long to keep retrying a handshake before giving up
 * @param rekeyTimeout how long to wait for a response before sending the initiation again
 * @param rekeyTimeoutJitterMax up to this much random delay is added to each retry
 * @param keepaliveTimeout after receiving data and sending nothing this long, send a keepalive
 * @param cookieRefreshTime lifetime of a cookie secret and of a received cookie
 * @param handshakeInitiationRate the least time between two initiations accepted from one peer
 * @param underLoadAfterTime how long the device stays under load after the threshold was crossed
 */
public record WireGuardTimings(
        long rekeyAfterMessages,
        long rejectAfterMessages,
        long rekeyAfterTime,
        long rejectAfterTime,
        long rekeyAttemptTime,
        long rekeyTimeout,
        long rekeyTimeoutJitterMax,
        long keepaliveTimeout,
        long cookieRefreshTime,
        long handshakeInitiationRate,
        long underLoadAfterTime) {

    /** The values of the whitepaper and wireguard-go. */
    public static final WireGuardTimings DEFAULT = new WireGuardTimings(
            1L << 60,
            -1L - (1L << 13), // 2^64 - 2^13 - 1 as an unsigned long
            seconds(120),
            seconds(180),
            seconds(90),
            seconds(5),
            Duration.ofMillis(334).toNanos(),
            seconds(10),
            seconds(120),
            Duration.ofMillis(20).toNanos(), // 1/50 s
            seconds(1));

    /** Checks the values are positive and ordered as the protocol needs. */
    public WireGuardTimings {
        if (rekeyAfterTime <= 0 || rejectAfterTime <= rekeyAfterTime) {
            throw new IllegalArgumentException("rejectAfterTime must exceed rekeyAfterTime > 0: rekeyAfterTime="
                    + rekeyAfterTime + " rejectAfterTime=" + rejectAfterTime);
        }
        if (rekeyTimeout <= 0 || rekeyAttemptTime < rekeyTimeout) {
            throw new IllegalArgumentException("rekeyAttemptTime must be at least rekeyTimeout > 0: rekeyTimeout="
                    + rekeyTimeout + " rekeyAttemptTime=" + rekeyAttemptTime);
        }
        if (keepaliveTimeout <= 0 || rekeyTimeoutJitterMax < 0 || cookieRefreshTime <= 0 || handshakeInitiationRate < 0
                || underLoadAfterTime < 0 || rekeyAfterMessages <= 0) {
            throw new IllegalArgumentException("timings must be positive: " + this);
        }
    }

    /** Handshake retries before giving up: rekeyAttemptTime / rekeyTimeout (18 by default). */
    public int maxTimerHandshakes() {
        return (int) (rekeyAttemptTime / rekeyTimeout);
    }

    /** The same timings with the given key lifetimes (tests). */
    public WireGuardTimings withKeyTimes(Duration rekeyAfter, Duration rejectAfter) {
        return new WireGuardTimings(rekeyAfterMessages, rejectAfterMessages, rekeyAfter.toNanos(), rejectAfter.toNanos(),
                rekeyAttemptTime, rekeyTimeout, rekeyTimeoutJitterMax, keepaliveTimeout, cookieRefreshTime,
                handshakeInitiationRate, underLoadAfterTime);
    }

    /** The same timings with the given message limits (tests). */
    public WireGuardTimings withMessageLimits(long rekeyAfter, long rejectAfter) {
        return new WireGuardTimings(rekeyAfter, rejectAfter, rekeyAfterTime, rejectAfterTime, rekeyAttemptTime,
                rekeyTimeout, rekeyTimeoutJitterMax, keepaliveTimeout, cookieRefreshTime, handshakeInitiationRate,
                underLoadAfterTime);
    }

    private static long seconds(long s) {
        return s * 1_000_000_000L;
    }
}
