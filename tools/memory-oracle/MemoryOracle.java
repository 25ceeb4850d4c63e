/*
 * flinkops memory oracle: Flink's own memory calculator, one JVM for many configurations.
 *
 * Runs BashJavaUtils' own code path (the private BashJavaUtils.runCommand, reached by reflection,
 * with the same "--configDir DIR -D key=value ..." arguments the shell scripts pass) once per
 * input line, so ten thousand configurations cost one JVM start instead of ten thousand.
 *
 * Compiled with plain javac (no Flink classes needed at compile time: everything Flink is reached
 * by reflection), run with a Flink version's jars on the classpath:
 *   java -cp ORACLE_DIR:FLINK/bin/bash-java-utils.jar:FLINK/lib/* MemoryOracle CONF_DIR
 * CONF_DIR holds an empty config.yaml (Flink 2.x) or flink-conf.yaml (1.x).
 *
 * Input, one JSON object per line, all values strings. "@op" selects what to do (default "tm"):
 *   tm / jm        the other keys are the configuration; prints what GET_TM_RESOURCE_PARAMS /
 *                  GET_JM_RESOURCE_PARAMS would print
 *   memory, duration, float, double, int, long, bool
 *                  parses "@value" through Flink's Configuration as an option of that type
 *   dtoa           Double.toString(Double.parseDouble("@value"))
 * Output, one JSON object per input line:
 *   {"ok":true,"jvm":"...","dynamic":"..."} / {"ok":true,"value":"..."} / {"ok":false,"error":"..."}
 * where "error" is the exception chain, outermost first.
 */

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

public class MemoryOracle {
    private static Method runCommand;
    private static Class<?> commandClass;
    private static Class<?> configurationClass;
    private static Class<?> configOptionsClass;
    private static Class<?> configOptionClass;

    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: MemoryOracle CONF_DIR  (JSON lines on stdin)");
            System.exit(2);
        }
        String confDir = args[0];
        // Answers go to the real stdout; anything Flink or its logging prints goes nowhere.
        PrintStream out = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), false, "UTF-8");
        PrintStream sink = new PrintStream(OutputStream.nullOutputStream());
        System.setOut(sink);
        System.setErr(sink);
        silenceLogging();
        Class<?> bju = Class.forName("org.apache.flink.runtime.util.bash.BashJavaUtils");
        commandClass = Class.forName("org.apache.flink.runtime.util.bash.BashJavaUtils$Command");
        runCommand = bju.getDeclaredMethod("runCommand", commandClass, String[].class);
        runCommand.setAccessible(true);
        configurationClass = Class.forName("org.apache.flink.configuration.Configuration");
        configOptionsClass = Class.forName("org.apache.flink.configuration.ConfigOptions");
        configOptionClass = Class.forName("org.apache.flink.configuration.ConfigOption");

        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            if (line.trim().isEmpty()) {
                continue;
            }
            String answer;
            try {
                Map<String, String> obj = new JsonParser(line).parseFlatObject();
                answer = handle(confDir, obj);
            } catch (Throwable t) {
                answer = "{\"ok\":false,\"error\":" + quote(chain(t)) + "}";
            }
            out.println(answer);
            out.flush();
        }
    }

    private static String handle(String confDir, Map<String, String> obj) throws Throwable {
        String op = obj.remove("@op");
        if (op == null) {
            op = "tm";
        }
        switch (op) {
            case "tm":
            case "jm": {
                List<String> argv = new ArrayList<>();
                argv.add("--configDir");
                argv.add(confDir);
                for (Map.Entry<String, String> e : obj.entrySet()) {
                    argv.add("-D");
                    argv.add(e.getKey() + "=" + e.getValue());
                }
                Object command = enumValue(op.equals("tm") ? "GET_TM_RESOURCE_PARAMS" : "GET_JM_RESOURCE_PARAMS");
                try {
                    @SuppressWarnings("unchecked")
                    List<String> lines = (List<String>) runCommand.invoke(null, command, argv.toArray(new String[0]));
                    return "{\"ok\":true,\"jvm\":" + quote(lines.get(0)) + ",\"dynamic\":" + quote(lines.get(1)) + "}";
                } catch (InvocationTargetException e) {
                    throw e.getCause();
                }
            }
            case "dtoa":
                return ok(Double.toString(Double.parseDouble(obj.get("@value"))));
            default:
                return ok(parseTyped(op, obj.get("@value")));
        }
    }

    private static String ok(String value) {
        return "{\"ok\":true,\"value\":" + quote(value) + "}";
    }

    /** Sets the raw string under a key and reads it back as an option of the given type. */
    private static String parseTyped(String type, String value) throws Throwable {
        try {
            Object conf = configurationClass.getConstructor().newInstance();
            Object builder = configOptionsClass.getMethod("key", String.class).invoke(null, "k");
            Object stringOption = typed(builder, "stringType");
            configurationClass.getMethod("set", configOptionClass, Object.class).invoke(conf, stringOption, value);
            String typeMethod;
            switch (type) {
                case "memory": typeMethod = "memoryType"; break;
                case "duration": typeMethod = "durationType"; break;
                case "float": typeMethod = "floatType"; break;
                case "double": typeMethod = "doubleType"; break;
                case "int": typeMethod = "intType"; break;
                case "long": typeMethod = "longType"; break;
                case "bool": typeMethod = "booleanType"; break;
                default: throw new IllegalArgumentException("unknown @op " + type);
            }
            Object option = typed(configOptionsClass.getMethod("key", String.class).invoke(null, "k"), typeMethod);
            Object v = configurationClass.getMethod("get", configOptionClass).invoke(conf, option);
            switch (type) {
                case "memory":
                    return String.valueOf(v.getClass().getMethod("getBytes").invoke(v));
                case "duration": {
                    java.time.Duration d = (java.time.Duration) v;
                    return d.getSeconds() + "." + String.format("%09d", d.getNano());
                }
                case "float":
                    return Integer.toHexString(Float.floatToRawIntBits((Float) v));
                case "double":
                    return Long.toHexString(Double.doubleToRawLongBits((Double) v));
                default:
                    return String.valueOf(v);
            }
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    private static Object typed(Object builder, String typeMethod) throws Exception {
        Object typedBuilder = builder.getClass().getMethod(typeMethod).invoke(builder);
        return typedBuilder.getClass().getMethod("noDefaultValue").invoke(typedBuilder);
    }

    private static Object enumValue(String name) throws Exception {
        return commandClass.getMethod("valueOf", String.class).invoke(null, name);
    }

    private static void silenceLogging() {
        try {
            Class<?> level = Class.forName("org.apache.logging.log4j.Level");
            Object off = level.getField("OFF").get(null);
            Class.forName("org.apache.logging.log4j.core.config.Configurator")
                    .getMethod("setRootLevel", level)
                    .invoke(null, off);
        } catch (Throwable ignored) {
            // no log4j on the classpath: nothing to silence
        }
    }

    private static String chain(Throwable t) {
        StringBuilder sb = new StringBuilder();
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (sb.length() > 0) {
                sb.append(" <- ");
            }
            sb.append(c.getClass().getSimpleName()).append(": ").append(c.getMessage());
            if (c.getCause() == c) {
                break;
            }
        }
        return sb.toString();
    }

    private static String quote(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"': sb.append("\\\""); break;
                case '\\': sb.append("\\\\"); break;
                case '\n': sb.append("\\n"); break;
                case '\r': sb.append("\\r"); break;
                case '\t': sb.append("\\t"); break;
                default:
                    if (c < 0x20) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
            }
        }
        return sb.append('"').toString();
    }

    /** A JSON parser for one flat object whose values are strings. */
    private static final class JsonParser {
        private final String s;
        private int i;

        JsonParser(String s) {
            this.s = s;
        }

        Map<String, String> parseFlatObject() {
            Map<String, String> m = new LinkedHashMap<>();
            ws();
            expect('{');
            ws();
            if (peek() == '}') {
                i++;
                return m;
            }
            while (true) {
                ws();
                String k = string();
                ws();
                expect(':');
                ws();
                String v = string();
                m.put(k, v);
                ws();
                char c = s.charAt(i++);
                if (c == '}') {
                    return m;
                }
                if (c != ',') {
                    throw new IllegalArgumentException("bad JSON at " + i);
                }
            }
        }

        private char peek() {
            return s.charAt(i);
        }

        private void ws() {
            while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
                i++;
            }
        }

        private void expect(char c) {
            if (s.charAt(i++) != c) {
                throw new IllegalArgumentException("expected " + c + " at " + i);
            }
        }

        private String string() {
            expect('"');
            StringBuilder sb = new StringBuilder();
            while (true) {
                char c = s.charAt(i++);
                if (c == '"') {
                    return sb.toString();
                }
                if (c == '\\') {
                    char e = s.charAt(i++);
                    switch (e) {
                        case 'n': sb.append('\n'); break;
                        case 't': sb.append('\t'); break;
                        case 'r': sb.append('\r'); break;
                        case 'b': sb.append('\b'); break;
                        case 'f': sb.append('\f'); break;
                        case 'u':
                            sb.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
                            i += 4;
                            break;
                        default: sb.append(e);
                    }
                } else {
                    sb.append(c);
                }
            }
        }
    }
}
