package io.dataplane.core.testing;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.lang.reflect.Method;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The build runs fuzz tests by class name (*FuzzTest) and Jazzer fuzzes only the first @FuzzTest
 * of each JVM (see FUZZING.md): a fuzz test in a class of another name would never run, and a
 * second one in the same class would be skipped while fuzzing. This keeps both from happening
 * silently in this module.
 */
class FuzzTestLayoutTest {

    @Test
    void everyFuzzTestIsAloneInAClassNamedFuzzTest() throws Exception {
        Path root = testClassesRoot();
        List<String> problems = new ArrayList<>();
        int fuzzTests = 0;
        try (Stream<Path> files = Files.walk(root)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".class")).toList()) {
                String name = root.relativize(file).toString().replace('/', '.').replaceAll("\\.class$", "");
                Class<?> type = Class.forName(name, false, getClass().getClassLoader());
                long count = Arrays.stream(type.getDeclaredMethods()).filter(FuzzTestLayoutTest::isFuzzTest).count();
                fuzzTests += (int) count;
                if (count > 0 && !type.getSimpleName().endsWith("FuzzTest")) {
                    problems.add(name + " has a @FuzzTest but its name does not end in FuzzTest: the build would never run it");
                }
                if (count > 1) problems.add(name + " has " + count + " @FuzzTest methods: only the first would be fuzzed");
            }
        }
        assertTrue(problems.isEmpty(), String.join("\n", problems));
        assertTrue(fuzzTests > 0, "found no fuzz test under " + root + ": is this looking in the right place?");
    }

    private static boolean isFuzzTest(Method m) {
        return m.isAnnotationPresent(FuzzTest.class);
    }

    private Path testClassesRoot() throws URISyntaxException {
        // This class's own class file is at <root>/io/dataplane/core/testing/FuzzTestLayoutTest.class.
        Path self = Path.of(getClass().getResource(getClass().getSimpleName() + ".class").toURI());
        Path root = self;
        for (int i = 0; i < getClass().getPackageName().split("\\.").length + 1; i++) root = root.getParent();
        return root;
    }
}
