package io.dataplane.core.config;

/**
 * A configuration file, or a value in one, that the dataplane cannot use. The message names the
 * file when it is known, the field (a path such as {@code Backend.VNI} or {@code [2].Subnet}) and
 * the offending value, so a node can stop with exactly this one line.
 *
 * <p>Unchecked on purpose: a bad configuration is fatal where it is read (the node's start-up, a
 * reload of {@code peers.json}), and every reader in this package throws nothing else, so callers
 * catch this one type at that boundary instead of threading a checked exception through lambdas and
 * watchers. I/O failures while reading a file (missing, unreadable, too large) are reported as this
 * exception too, with the {@link java.io.IOException} as the cause.
 */
public final class ConfigException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String source;
    private final String field;
    private final String detail;

    /**
     * A problem with {@code field} of {@code source}.
     *
     * @param source the file (or other origin) the value came from, or null when unknown
     * @param field the field's path in flannel's names ({@code Backend.VNI}), or null for the whole file
     * @param detail what is wrong, with the value ({@code "VNI out of range: vni=16777216 (max 16777215)"})
     */
    public ConfigException(String source, String field, String detail) {
        this(source, field, detail, null);
    }

    /** As {@link #ConfigException(String, String, String)}, with the exception that caused it. */
    public ConfigException(String source, String field, String detail, Throwable cause) {
        super(format(source, field, detail), cause);
        this.source = source;
        this.field = field;
        this.detail = detail;
    }

    private static String format(String source, String field, String detail) {
        StringBuilder sb = new StringBuilder();
        if (source != null) sb.append(source).append(": ");
        if (field != null) sb.append(field).append(": ");
        return sb.append(detail).toString();
    }

    /** The file the problem is in, or null when the text did not come from a file. */
    public String source() {
        return source;
    }

    /** The field's path in flannel's names ({@code Backend.VNI}, {@code [0].BackendData.VtepMAC}), or null. */
    public String field() {
        return field;
    }

    /** What is wrong, without the file and field prefix. */
    public String detail() {
        return detail;
    }

    /**
     * The same problem attributed to {@code source}; {@code this} when it already names one. Lets a
     * validating constructor, which knows no file, throw and the file reader add the file name.
     */
    public ConfigException withSource(String source) {
        if (this.source != null || source == null) return this;
        ConfigException e = new ConfigException(source, field, detail, getCause());
        e.setStackTrace(getStackTrace());
        return e;
    }

    /**
     * The same problem with the field nested under {@code prefix} ({@code [2]} + {@code Subnet} is
     * {@code [2].Subnet}); used when a record is one element of a larger file.
     */
    ConfigException under(String prefix) {
        String nested = field == null ? prefix : field.startsWith("[") ? prefix + field : prefix + "." + field;
        ConfigException e = new ConfigException(source, nested, detail, getCause());
        e.setStackTrace(getStackTrace());
        return e;
    }
}
