package io.dataplane.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link JsonFields#parse} and {@link JsonFields#write} against Jackson's {@code ObjectMapper} as the
 * reference: the same tree (node types included) from the same text, the same text from the same tree.
 */
class JsonFieldsTreeTest {
    private static final ObjectMapper REFERENCE = JsonMapper.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

    private static final List<String> DOCUMENTS = List.of(
            "{}", "[]", "0", "-1", "\"\"", "true", "false", "null", "1.5", "-0.0", "1e3", "2147483647", "2147483648",
            "-2147483649", "9223372036854775807", "9223372036854775808", "123456789012345678901234567890", "1.0E-300",
            "\"caf\\u00e9 \\\"quoted\\\" \\\\ \\n\\t\\u0001 \\ud83d\\ude00\"",
            "{\"Network\": \"10.244.0.0/16\", \"SubnetLen\": 24, \"Backend\": {\"Type\": \"vxlan\", \"VNI\": 1, \"GBP\": false}}",
            "[{\"Subnet\":\"10.244.2.0/24\",\"PublicIP\":\"192.0.2.2\",\"BackendType\":\"vxlan\",\"BackendData\":{\"VNI\":1,\"VtepMAC\":\"02:00:0a:f4:02:00\"}}]",
            "{\"a\": [1, [2, [3, {}]], {\"b\": null}], \"c\": {\"d\": {\"e\": [true, false, 0.25]}}}",
            " \n\t{ \"spaced\" :\n [ 1 , 2 ] } \n");

    @Test
    void readsTheTreeObjectMapperReads() throws Exception {
        for (String doc : DOCUMENTS) {
            JsonNode expected = REFERENCE.readTree(doc);
            JsonNode actual = JsonFields.parse(doc.getBytes(StandardCharsets.UTF_8), "test");
            assertEquals(expected, actual, doc);
            assertEquals(types(expected), types(actual), doc);
        }
    }

    @Test
    void writesTheTextJsonNodeWrites() throws Exception {
        for (String doc : DOCUMENTS) {
            JsonNode tree = REFERENCE.readTree(doc);
            assertEquals(tree.toString(), JsonFields.write(tree), doc);
            assertEquals(REFERENCE.writerWithDefaultPrettyPrinter().writeValueAsString(tree), JsonFields.write(tree, true), doc);
        }
    }

    @Test
    void randomTreesReadAndWriteAsObjectMapperDoes() throws Exception {
        Random random = new Random(14);
        for (int i = 0; i < 500; i++) {
            JsonNode tree = randomValue(random, 0);
            String text = REFERENCE.writeValueAsString(tree);
            assertEquals(text, JsonFields.write(tree), text);
            JsonNode read = JsonFields.parse(text.getBytes(StandardCharsets.UTF_8), "test");
            assertEquals(REFERENCE.readTree(text), read, text);
            assertEquals(types(REFERENCE.readTree(text)), types(read), text);
        }
    }

    @Test
    void netConfIsWrittenAsObjectMappersPrettyPrinterWritesIt() throws Exception {
        NetConf conf = NetConf.parse("{\"Network\": \"10.244.0.0/16\", \"SubnetLen\": 26, \"Backend\": {\"Type\": \"vxlan\", \"VNI\": 7, \"GBP\": true, \"MTU\": 1400}}".getBytes(StandardCharsets.UTF_8), "net-conf.json");
        String text = conf.toJson();
        assertEquals(REFERENCE.writerWithDefaultPrettyPrinter().writeValueAsString(REFERENCE.readTree(text)) + "\n", text);
        assertEquals(conf, NetConf.parse(text.getBytes(StandardCharsets.UTF_8), "net-conf.json"));
    }

    /** Every node's class, depth first: IntNode and LongNode are equal to Jackson when their values are. */
    private static String types(JsonNode node) {
        StringBuilder sb = new StringBuilder(node.getClass().getSimpleName());
        if (node.isContainerNode()) {
            sb.append('(');
            for (var p : node.properties()) sb.append(p.getKey()).append('=').append(types(p.getValue())).append(',');
            if (node.isArray()) for (JsonNode e : node) sb.append(types(e)).append(',');
            sb.append(')');
        }
        return sb.toString();
    }

    private static JsonNode randomValue(Random random, int depth) {
        var nodes = JsonFields.NODES;
        return switch (random.nextInt(depth > 3 ? 7 : 9)) {
            case 0 -> nodes.textNode(randomString(random));
            case 1 -> nodes.numberNode(random.nextInt());
            case 2 -> nodes.numberNode(random.nextLong());
            case 3 -> nodes.numberNode(random.nextDouble() * Math.pow(10, random.nextInt(40) - 20));
            case 4 -> nodes.booleanNode(random.nextBoolean());
            case 5 -> nodes.nullNode();
            case 6 -> nodes.numberNode(new java.math.BigInteger(80, random));
            case 7 -> {
                var object = nodes.objectNode();
                for (int i = random.nextInt(4); i > 0; i--) object.set(randomString(random) + i, randomValue(random, depth + 1));
                yield object;
            }
            default -> {
                var array = nodes.arrayNode();
                for (int i = random.nextInt(4); i > 0; i--) array.add(randomValue(random, depth + 1));
                yield array;
            }
        };
    }

    private static String randomString(Random random) {
        StringBuilder sb = new StringBuilder();
        for (int i = random.nextInt(8); i > 0; i--) {
            int kind = random.nextInt(4);
            sb.append(kind == 0 ? (char) random.nextInt(0x20) : kind == 1 ? (char) (0x20 + random.nextInt(0x5f)) : kind == 2 ? '"' : (char) (0xa0 + random.nextInt(0x700)));
        }
        return sb.toString();
    }
}
