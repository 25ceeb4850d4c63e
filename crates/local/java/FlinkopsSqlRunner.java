/*
 * flinkops SQL runner: runs a SQL script as one Flink job. Shipped as source by flinkops and
 * compiled with javac against the chosen Flink's lib/ on first use.
 *
 * Usage (program arguments): --script <SQL text> | --script-base64 <base64 SQL text>
 *
 * `SET 'key' = 'value';` statements are applied to the job's configuration; every other
 * statement runs in order; INSERT statements are collected into one statement set so that the
 * script becomes one job. SELECT and other statements that would print results are refused.
 */
package io.flinkops.sqlrunner;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.StatementSet;
import org.apache.flink.table.api.TableEnvironment;
import org.apache.flink.table.api.TableResult;

public final class FlinkopsSqlRunner {
    private static final Pattern SET =
            Pattern.compile("(?is)^SET\\s+'([^']+)'\\s*=\\s*'((?:[^']|'')*)'\\s*$");
    private static final Pattern RESET = Pattern.compile("(?is)^RESET(\\s+'[^']*')?\\s*$");

    public static void main(String[] args) throws Exception {
        String script = null;
        for (int i = 0; i + 1 < args.length; i += 2) {
            if ("--script".equals(args[i])) {
                script = args[i + 1];
            } else if ("--script-base64".equals(args[i])) {
                script = new String(Base64.getDecoder().decode(args[i + 1]), StandardCharsets.UTF_8);
            }
        }
        if (script == null) {
            throw new IllegalArgumentException("flinkops SQL runner: pass --script <SQL> or --script-base64 <b64>");
        }
        List<String> statements = split(script);
        if (statements.isEmpty()) {
            throw new IllegalArgumentException("flinkops SQL runner: the script has no statements");
        }
        // Apply SET statements first so that they shape the environment the job is built in.
        org.apache.flink.configuration.Configuration conf = new org.apache.flink.configuration.Configuration();
        List<String> rest = new ArrayList<>();
        for (String s : statements) {
            Matcher m = SET.matcher(s);
            if (m.matches()) {
                conf.setString(m.group(1), m.group(2).replace("''", "'"));
            } else if (RESET.matcher(s).matches()) {
                throw new IllegalArgumentException("flinkops SQL runner: RESET is not supported: " + s);
            } else {
                rest.add(s);
            }
        }
        EnvironmentSettings settings = EnvironmentSettings.newInstance().inStreamingMode().withConfiguration(conf).build();
        TableEnvironment tEnv = TableEnvironment.create(settings);
        StatementSet inserts = tEnv.createStatementSet();
        int insertCount = 0;
        for (String s : rest) {
            String head = firstWord(s);
            if (head.equals("INSERT") || (head.equals("EXECUTE") && s.toUpperCase(Locale.ROOT).contains("INSERT"))) {
                String sql = head.equals("EXECUTE") ? s.replaceFirst("(?is)^EXECUTE\\s+", "") : s;
                inserts.addInsertSql(sql);
                insertCount++;
            } else if (head.equals("SELECT") || head.equals("WITH") || head.equals("SHOW") || head.equals("DESCRIBE") || head.equals("EXPLAIN")) {
                throw new IllegalArgumentException("flinkops SQL runner: only DDL, SET and INSERT statements can run as a job; not: " + abbreviate(s));
            } else {
                tEnv.executeSql(s);
            }
        }
        if (insertCount == 0) {
            throw new IllegalArgumentException("flinkops SQL runner: the script has no INSERT statement, so there is no job to run");
        }
        TableResult result = inserts.execute();
        result.getJobClient().ifPresent(c -> System.out.println("flinkops-sql-runner: submitted job " + c.getJobID()));
    }

    private static String firstWord(String s) {
        String t = s.trim();
        int i = 0;
        while (i < t.length() && Character.isLetter(t.charAt(i))) {
            i++;
        }
        return t.substring(0, i).toUpperCase(Locale.ROOT);
    }

    private static String abbreviate(String s) {
        String t = s.trim().replaceAll("\\s+", " ");
        return t.length() > 80 ? t.substring(0, 77) + "..." : t;
    }

    /** Splits a script at semicolons outside quotes, identifiers in backticks and comments. */
    static List<String> split(String script) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        int n = script.length();
        for (int i = 0; i < n; i++) {
            char c = script.charAt(i);
            char next = i + 1 < n ? script.charAt(i + 1) : '\0';
            if (c == '-' && next == '-') {
                while (i < n && script.charAt(i) != '\n') {
                    i++;
                }
                cur.append('\n');
            } else if (c == '/' && next == '*') {
                i += 2;
                while (i + 1 < n && !(script.charAt(i) == '*' && script.charAt(i + 1) == '/')) {
                    i++;
                }
                i++;
                cur.append(' ');
            } else if (c == '\'' || c == '"' || c == '`') {
                cur.append(c);
                i++;
                while (i < n) {
                    char d = script.charAt(i);
                    cur.append(d);
                    if (d == c) {
                        if (i + 1 < n && script.charAt(i + 1) == c) {
                            cur.append(c);
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    i++;
                }
            } else if (c == ';') {
                add(out, cur);
            } else {
                cur.append(c);
            }
        }
        add(out, cur);
        return out;
    }

    private static void add(List<String> out, StringBuilder cur) {
        String s = cur.toString().trim();
        if (!s.isEmpty()) {
            out.add(s);
        }
        cur.setLength(0);
    }
}
