/**
 * `npm run verify -- --stack <name> | --config <file> [--json] [--wait <duration>]`: checks a live mesh
 * against the topology it was applied from. Each cluster is read through its own access (context or
 * kubeconfig); every check prints ✔ or ✖ with what was expected, what was found and, on ✖, a hint.
 *
 * Exit codes (tools/exitCodes.ts, as every command): 0 every check passed; 1 a check failed (or `--wait` ran
 * out); 2 the command or the config was refused (nothing was checked).
 */
import "./requireNode";
import { exitCode, exitCodesHelp, wantsHelp } from "./exitCodes";
import { allPassed, CheckResult, Connect, runChecks } from "./verify/checks";
import {
    loadFileConfig,
    loadStackConfig,
    PulumiRunner,
    runPulumi,
    VerifyConfig,
    VerifyRefused,
} from "./verify/config";
import { kubeClient, kubeConfigForContext, kubeConfigFromText } from "./verify/kube";

const usage =
    "usage: npm run verify -- (--stack <name> | --config <file>) [--json] [--wait <duration>]; --help for more";

/** The `--help` text. */
export const verifyHelp = [
    "npm run verify -- (--stack <name> | --config <file>) [--json] [--wait <duration>]",
    "",
    "Checks a live mesh against the topology it was applied from: each cluster through its own access (context",
    "or kubeconfig), one line per check (✔ or ✖, what was expected and found, a hint on ✖), then a summary.",
    "",
    "  --stack <name>     a stack of this project: its config as the Pulumi CLI reads it (secrets decrypted)",
    "  --config <file>    any file shaped like a stack file (kubeconfigs in it in plain text), instead of --stack",
    "  --json             the results as JSON",
    "  --wait <duration>  check again every 5 s until every check passes or the time runs out (30s, 10m, 1m30s)",
    "  -h, --help         this text",
    "",
    exitCodesHelp,
    "",
].join("\n");

interface Args {
    stack?: string;
    config?: string;
    json: boolean;
    waitMs?: number;
}

/** `90s`, `10m`, `1h`, `1m30s`; undefined when not a duration. */
export function parseDuration(text: string): number | undefined {
    const m = /^(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+)s)?(?:(\d+)ms)?$/.exec(text);
    if (!m || text === "") return undefined;
    const [h, min, s, ms] = m.slice(1).map((x) => Number(x ?? 0));
    return ((h! * 60 + min!) * 60 + s!) * 1000 + ms!;
}

function parseArgs(argv: readonly string[]): Args {
    const args: Args = { json: false };
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        const value = () => {
            const v = argv[++i];
            if (v === undefined || v.startsWith("--"))
                throw new VerifyRefused(`${a} needs a value; ${usage}`);
            return v;
        };
        if (a === "--stack") args.stack = value();
        else if (a === "--config") args.config = value();
        else if (a === "--json") args.json = true;
        else if (a === "--wait") {
            const v = value();
            const ms = parseDuration(v);
            if (ms === undefined || ms === 0)
                throw new VerifyRefused(`--wait ${v}: not a duration; use e.g. 30s, 10m, 1h`);
            args.waitMs = ms;
        } else throw new VerifyRefused(`unknown argument ${a}; ${usage}`);
    }
    if ((args.stack === undefined) === (args.config === undefined)) {
        throw new VerifyRefused(`give exactly one of --stack and --config; ${usage}`);
    }
    return args;
}

/** Reaches a cluster through its context, or the kubeconfig text the config holds. */
export function connectFor(config: VerifyConfig): Connect {
    return (cluster) =>
        kubeClient(
            cluster.access.kind === "context"
                ? kubeConfigForContext(cluster.access.context)
                : kubeConfigFromText(config.kubeconfigs[cluster.name]!),
        );
}

/** The report as text: per cluster, one line per check, the hint under each ✖, then a summary. */
export function renderReport(results: readonly CheckResult[]): string {
    const lines: string[] = [];
    const clusters = [...new Set(results.map((r) => r.cluster))];
    const width = Math.max(0, ...results.map((r) => r.check.length));
    for (const c of clusters) {
        lines.push(c);
        for (const r of results.filter((x) => x.cluster === c)) {
            const mark = r.status === "pass" ? "✔" : r.status === "fail" ? "✖" : "-";
            lines.push(`  ${mark} ${r.check.padEnd(width)}  ${r.found}`);
            if (r.status !== "pass") {
                lines.push(`      expected: ${r.expected}`);
                if (r.hint) lines.push(`      hint: ${r.hint}`);
            }
        }
    }
    const failed = results.filter((r) => r.status === "fail").length;
    const skipped = results.filter((r) => r.status === "skip").length;
    lines.push(
        `${results.length} checks: ${results.length - failed - skipped} passed, ${failed} failed` +
            (skipped ? `, ${skipped} not decidable from here` : ""),
    );
    return lines.join("\n") + "\n";
}

/** Where verify writes, and its clock: injectable for tests. */
export interface VerifyIo {
    readonly out: (s: string) => void;
    readonly err: (s: string) => void;
    readonly pulumi?: PulumiRunner;
    /** Pause between `--wait` rounds; default 5 s (never past the deadline). */
    readonly intervalMs?: number;
    readonly now?: () => Date;
}

/** The command; returns the exit code. */
export async function verify(argv: readonly string[], io: VerifyIo): Promise<number> {
    if (wantsHelp(argv)) {
        io.out(verifyHelp);
        return exitCode.done;
    }
    let args: Args;
    let config: VerifyConfig;
    try {
        args = parseArgs(argv);
        config =
            args.stack !== undefined
                ? loadStackConfig(args.stack, io.pulumi ?? runPulumi)
                : loadFileConfig(args.config!);
    } catch (e) {
        if (!(e instanceof VerifyRefused)) throw e;
        io.err(`verify refused: ${e.message}\n${e.problems.map((p) => `  - ${p}\n`).join("")}`);
        return exitCode.refused;
    }
    for (const n of config.notes) io.err(n + "\n");
    const connect = connectFor(config);
    const now = io.now ?? (() => new Date());
    const deadline = Date.now() + (args.waitMs ?? 0);
    let results = await runChecks(config, connect, now());
    let round = 1;
    while (args.waitMs !== undefined && !allPassed(results) && Date.now() < deadline) {
        const failing = results.filter((r) => r.status === "fail");
        const left = Math.max(0, Math.round((deadline - Date.now()) / 1000));
        io.err(
            `waiting (round ${round}): ${failing.length} of ${results.length} checks failing ` +
                `(${failing.map((f) => `${f.cluster} ${f.check}`).join(", ")}); ${left}s left\n`,
        );
        await new Promise((res) =>
            setTimeout(res, Math.min(io.intervalMs ?? 5000, Math.max(0, deadline - Date.now()))),
        );
        results = await runChecks(config, connect, now());
        round++;
    }
    if (args.json) io.out(JSON.stringify(results, null, 2) + "\n");
    else io.out(renderReport(results));
    if (args.waitMs !== undefined && !allPassed(results))
        io.err(`verify: still failing when --wait ran out\n`);
    return allPassed(results) ? exitCode.done : exitCode.failed;
}

if (require.main === module) {
    verify(process.argv.slice(2), {
        out: (s) => process.stdout.write(s),
        err: (s) => process.stderr.write(s),
    }).then(
        (code) => process.exit(code),
        (e: unknown) => {
            process.stderr.write(`verify failed: ${e instanceof Error ? e.message : String(e)}\n`);
            process.exit(exitCode.failed);
        },
    );
}
