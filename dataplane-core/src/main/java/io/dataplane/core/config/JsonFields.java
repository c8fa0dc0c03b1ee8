package io.dataplane.core.config;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.util.Collection;
import java.util.Map;

/**
 * One JSON object of a flannel file, read the way flanneld's Go {@code encoding/json} reads it, with
 * every error naming the file, the field's path and the value.
 *
 * <p>Jackson tokenizes and reports line and column; the binding to flannel's names is done here
 * rather than by Jackson's data binding because Go's rules differ from Jackson's defaults in ways
 * that matter for files written for flanneld:
 * <ul>
 *   <li>keys match field names case-insensitively ({@code "vni"} sets {@code VNI}: flannel's own
 *       vxlan backend declares its fields with lower-case JSON tags);
 *   <li>a JSON {@code null} leaves the default in place;
 *   <li>no coercion: {@code "24"} is not a number, {@code 24.0} not an integer, {@code 1} not a boolean;
 *   <li>unknown keys are ignored (see {@link #rejectTypos}).
 * </ul>
 * Beyond Go, a key given twice (also in different case) is an error instead of "last one wins".
 *
 * <p>Trees are read and written with Jackson's streaming parser and generator and its tree nodes,
 * without an {@code ObjectMapper}: a node reads its files and peer lists for its whole life, and an
 * {@code ObjectMapper} (its serializer and deserializer factories, type factory and default date
 * format, which loads the JDK's locale data) costs a node about 5 MB of resident memory for
 * nothing these trees need. {@link #read} builds the same tree as {@code ObjectMapper.readTree}
 * with its defaults, {@link #write} the same text as {@code JsonNode.toString()}.
 */
final class JsonFields {
    /** Longest string value accepted; flannel's longest is a 44-character key. Keeps messages short. */
    static final int MAX_STRING = 256;
    private static final int SHOW_MAX = 64;
    private static final java.util.regex.Pattern SOURCE_REF =
            java.util.regex.Pattern.compile("\\[Source: [^;\\]]*; line: (\\d+), column: (\\d+)\\]");

    /** Rejects a key given twice in one object (exactly; {@link #get} finds those that differ in case). */
    private static final JsonFactory JSON = JsonFactory.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();
    /** Makes the tree nodes of what {@link #parse} reads and of what the config classes write. */
    static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private final ObjectNode node;
    private final String path;
    private final String source;

    private JsonFields(ObjectNode node, String path, String source) {
        this.node = node;
        this.path = path;
        this.source = source;
    }

    /**
     * Parses {@code json} into a tree; syntax errors become a {@link ConfigException} with the line
     * and column, and empty input is an error too.
     */
    static JsonNode parse(byte[] json, String source) {
        JsonNode tree;
        try (JsonParser parser = JSON.createParser(json)) {
            JsonToken first = parser.nextToken();
            tree = first == null ? null : read(parser, first);
            if (tree != null && parser.nextToken() != null) {
                JsonLocation at = parser.currentTokenLocation();
                throw new ConfigException(source, null, "bad JSON at line " + at.getLineNr() + ", column " + at.getColumnNr()
                        + ": more content after the end of the top-level value");
            }
        } catch (JsonProcessingException e) {
            JsonLocation at = e.getLocation();
            String where = at == null ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr();
            String why = firstLine(e.getOriginalMessage());
            // Jackson points at other places in the input as "[Source: REDACTED ...; line: 1, column: 1]".
            why = SOURCE_REF.matcher(why).replaceAll("line $1, column $2");
            throw new ConfigException(source, null, "bad JSON" + where + ": " + why, e);
        } catch (IOException e) {
            throw new ConfigException(source, null, "bad JSON: " + e, e);
        }
        if (tree == null) throw new ConfigException(source, null, "empty: expected JSON");
        return tree;
    }

    /**
     * The value that starts at {@code token} (the parser's current token), as the tree nodes
     * {@code ObjectMapper.readTree} makes with its defaults: int, long or big integer nodes by size,
     * doubles for fractions.
     */
    static JsonNode read(JsonParser parser, JsonToken token) throws IOException {
        return switch (token) {
            case START_OBJECT -> {
                ObjectNode object = NODES.objectNode();
                while (parser.nextToken() == JsonToken.FIELD_NAME) {
                    String name = parser.currentName();
                    object.set(name, read(parser, parser.nextToken()));
                }
                yield object;
            }
            case START_ARRAY -> {
                ArrayNode array = NODES.arrayNode();
                for (JsonToken t = parser.nextToken(); t != JsonToken.END_ARRAY; t = parser.nextToken()) array.add(read(parser, t));
                yield array;
            }
            case VALUE_STRING -> NODES.textNode(parser.getText());
            case VALUE_NUMBER_INT -> switch (parser.getNumberType()) {
                case INT -> NODES.numberNode(parser.getIntValue());
                case LONG -> NODES.numberNode(parser.getLongValue());
                default -> NODES.numberNode(parser.getBigIntegerValue());
            };
            case VALUE_NUMBER_FLOAT -> NODES.numberNode(parser.getDoubleValue());
            case VALUE_TRUE -> NODES.booleanNode(true);
            case VALUE_FALSE -> NODES.booleanNode(false);
            case VALUE_NULL -> NODES.nullNode();
            // The parser only hands out the tokens above where a value starts.
            default -> throw new IllegalStateException("no JSON value starts at " + token);
        };
    }

    /** {@code tree} as compact JSON, the text of {@code JsonNode.toString()}. */
    static String write(JsonNode tree) {
        return write(tree, false);
    }

    /** {@code tree} as JSON, indented as Jackson's default pretty printer indents when {@code pretty}. */
    static String write(JsonNode tree, boolean pretty) {
        StringWriter out = new StringWriter();
        try (JsonGenerator generator = JSON.createGenerator(out)) {
            if (pretty) generator.setPrettyPrinter(new DefaultPrettyPrinter());
            write(generator, tree);
        } catch (IOException e) {
            throw new UncheckedIOException("writing to a string", e);
        }
        return out.toString();
    }

    private static void write(JsonGenerator generator, JsonNode value) throws IOException {
        switch (value.getNodeType()) {
            case OBJECT -> {
                generator.writeStartObject();
                for (Map.Entry<String, JsonNode> property : value.properties()) {
                    generator.writeFieldName(property.getKey());
                    write(generator, property.getValue());
                }
                generator.writeEndObject();
            }
            case ARRAY -> {
                generator.writeStartArray();
                for (JsonNode element : value) write(generator, element);
                generator.writeEndArray();
            }
            case STRING -> generator.writeString(value.textValue());
            case BOOLEAN -> generator.writeBoolean(value.booleanValue());
            case NUMBER -> {
                if (value.isInt()) generator.writeNumber(value.intValue());
                else if (value.isLong()) generator.writeNumber(value.longValue());
                else if (value.isBigInteger()) generator.writeNumber(value.bigIntegerValue());
                else if (value.isBigDecimal()) generator.writeNumber(value.decimalValue());
                else generator.writeNumber(value.doubleValue());
            }
            case NULL -> generator.writeNull();
            // Binary, POJO and missing nodes: none of these trees (read above, or built by the config classes) holds one.
            default -> throw new IllegalArgumentException("not a JSON value: " + value.getNodeType());
        }
    }

    /** The top-level object of {@code json}. */
    static JsonFields parseObject(byte[] json, String source) {
        return of(parse(json, source), "", source);
    }

    /** The top-level array of {@code json}. */
    static ArrayNode parseArray(byte[] json, String source) {
        JsonNode tree = parse(json, source);
        if (!tree.isArray()) throw new ConfigException(source, null, "expected a JSON array, got " + kind(tree));
        return (ArrayNode) tree;
    }

    /** {@code node} as an object at {@code path} (empty for the top level). */
    static JsonFields of(JsonNode node, String path, String source) {
        if (!(node instanceof ObjectNode object)) {
            throw new ConfigException(source, path.isEmpty() ? null : path, "expected a JSON object, got " + kind(node));
        }
        return new JsonFields(object, path, source);
    }

    /** The path of {@code name} inside this object ({@code Backend.VNI}). */
    String pathOf(String name) {
        return path.isEmpty() ? name : path + "." + name;
    }

    /** An error about field {@code name} of this object. */
    ConfigException error(String name, String detail) {
        return new ConfigException(source, pathOf(name), detail);
    }

    /** The file this object came from, or null. */
    String source() {
        return source;
    }

    /**
     * The value of {@code name}: the key that equals it ignoring case, or null when there is none or
     * its value is JSON null. Two keys that both match are an error.
     */
    JsonNode get(String name) {
        String found = null;
        JsonNode value = null;
        for (Map.Entry<String, JsonNode> e : node.properties()) {
            if (!e.getKey().equalsIgnoreCase(name)) continue;
            if (found != null) {
                throw error(name, "given twice: " + show(found) + " and " + show(e.getKey()));
            }
            found = e.getKey();
            value = e.getValue();
        }
        return value == null || value.isNull() ? null : value;
    }

    /** True if {@code name} has a non-null value. */
    boolean has(String name) {
        return get(name) != null;
    }

    /** The string value of {@code name}, or null when absent. */
    String string(String name) {
        JsonNode v = get(name);
        if (v == null) return null;
        if (!v.isTextual()) throw error(name, "expected a string, got " + kind(v) + " " + show(v));
        String s = v.textValue();
        if (s.length() > MAX_STRING) {
            throw error(name, "too long: " + s.length() + " characters (max " + MAX_STRING + "): " + show(s));
        }
        return s;
    }

    /**
     * The integer value of {@code name}, or {@code absent} when it is missing. Values beyond a
     * {@code long} are an error here; the caller checks the field's own range.
     */
    long integer(String name, long absent) {
        JsonNode v = get(name);
        if (v == null) return absent;
        if (!v.isIntegralNumber()) throw error(name, "expected an integer, got " + kind(v) + " " + show(v));
        if (!v.canConvertToLong()) throw error(name, name + " out of range: " + show(v));
        return v.longValue();
    }

    /** The boolean value of {@code name}, or {@code absent} when it is missing. */
    boolean bool(String name, boolean absent) {
        JsonNode v = get(name);
        if (v == null) return absent;
        if (!v.isBoolean()) throw error(name, "expected true or false, got " + kind(v) + " " + show(v));
        return v.booleanValue();
    }

    /** The object value of {@code name}, or null when absent. */
    JsonFields object(String name) {
        JsonNode v = get(name);
        return v == null ? null : of(v, pathOf(name), source);
    }

    /**
     * Fails on a key that is not one of {@code known} but is within a typing error of one
     * ({@code "SubnetLn"}, {@code "Netwrok"}); other unknown keys are ignored as flanneld ignores
     * them. flanneld would silently drop a misspelled field and run with its default, which is how a
     * VNI or a port ends up different from what the file says; a near miss is almost certainly that.
     * Distance 1 for names of up to four letters, 2 for longer ones, so that flannel's other fields
     * ({@code ListenPortV6} next to {@code ListenPort}) belong in {@code known} to stay accepted.
     */
    void rejectTypos(Collection<String> known) {
        for (Map.Entry<String, JsonNode> property : node.properties()) {
            String key = property.getKey();
            String suggestion = null;
            boolean isKnown = false;
            for (String k : known) {
                if (k.equalsIgnoreCase(key)) {
                    isKnown = true;
                    break;
                }
                int allowed = k.length() <= 4 ? 1 : 2;
                if (suggestion == null && Math.abs(k.length() - key.length()) <= allowed && distance(k, key) <= allowed) {
                    suggestion = k;
                }
            }
            if (!isKnown && suggestion != null) {
                throw new ConfigException(source, pathOf(key), "unknown field " + show(key) + ": did you mean \"" + suggestion
                        + "\"? (flannel would ignore it and use the default)");
            }
        }
    }

    /** The object as compact JSON. */
    @Override
    public String toString() {
        return write(node);
    }

    /** Case-insensitive Levenshtein distance; only called on short strings. */
    private static int distance(String a, String b) {
        a = a.toLowerCase(java.util.Locale.ROOT);
        b = b.toLowerCase(java.util.Locale.ROOT);
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) prev[j] = j;
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int subst = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                cur[j] = Math.min(subst, Math.min(prev[j], cur[j - 1]) + 1);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }

    /** What kind of JSON value {@code v} is, for messages. */
    static String kind(JsonNode v) {
        if (v == null || v.isNull()) return "null";
        if (v.isObject()) return "object";
        if (v.isArray()) return "array";
        if (v.isTextual()) return "string";
        if (v.isBoolean()) return "boolean";
        if (v.isIntegralNumber()) return "integer";
        if (v.isNumber()) return "number";
        return v.getNodeType().toString().toLowerCase(java.util.Locale.ROOT);
    }

    /** A JSON value as it would appear in the file, cut short so a message stays one readable line. */
    static String show(JsonNode v) {
        return cut(write(v));
    }

    /** A string quoted as JSON, cut short. */
    static String show(String s) {
        return cut(write(NODES.textNode(s)));
    }

    private static String cut(String s) {
        return s.length() <= SHOW_MAX ? s : s.substring(0, SHOW_MAX) + "...";
    }

    private static String firstLine(String s) {
        if (s == null) return "";
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
