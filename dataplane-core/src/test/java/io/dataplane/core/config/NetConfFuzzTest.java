package io.dataplane.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * Any bytes as net-conf.json: either a valid {@link NetConf} that writes back to itself, or a
 * {@link ConfigException}; no other exception (no NPE, no Jackson exception) ever escapes.
 * Seeds: {@code src/test/resources/io/dataplane/core/config/NetConfFuzzTestInputs/parse/}.
 */
class NetConfFuzzTest {

    @FuzzTest
    @DictionaryEntries({"\"Network\"", "\"SubnetLen\"", "\"SubnetMin\"", "\"SubnetMax\"", "\"EnableIPv4\"", "\"EnableIPv6\"",
        "\"Backend\"", "\"Type\"", "\"VNI\"", "\"Port\"", "\"GBP\"", "\"DirectRouting\"", "\"Learning\"", "\"MTU\"", "\"PSK\"",
        "\"ListenPort\"", "\"PersistentKeepaliveInterval\"", "\"vxlan\"", "\"udp\"", "\"ipip\"", "\"wireguard\"", "\"host-gw\"",
        "\"10.244.0.0/16\"", "\"10.244.1.0\"", "/24", "true", "false", "null", "16777215", "65535"})
    void parse(byte[] input) {
        NetConf conf;
        try {
            conf = NetConf.parse(input, "net-conf.json");
        } catch (ConfigException e) {
            assertNotNull(e.field() != null ? e.field() : e.detail());
            assertEquals("net-conf.json", e.source(), "every error names the file");
            return;
        }
        assertEquals(conf, NetConf.parse(conf.toJson()), "toJson must read back equal");
        conf.backend().innerMtu(65535);
    }
}
