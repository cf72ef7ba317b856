/**
 * `npm run plan -- --stack <name> | --config <file> [--json | --mermaid] [--diff <base>]`: the offline plan.
 * Evaluates the program for a stack config under Pulumi's mock monitor in preview mode: no cluster, no Pulumi
 * CLI, no credentials. `--help` says it all.
 *
 * Exit codes (tools/exitCodes.ts, as every command): 0 planned; 1 a mandatory policy violation (the plan is
 * still printed); 2 the config or the command line was refused (every problem on stderr).
 */
// First: before anything loads @pulumi/pulumi (and only when this file is the program, not for tests).
import "./requireNode";
import "./lazySdk";
import { exitCode, exitCodesHelp } from "./exitCodes";
import * as fs from "node:fs";
import * as path from "node:path";
import { diffPlans, planAtCommit, PlanDoc, readPlanDoc, renderDiffMarkdown, resolveCommit } from "./diff";
import { mermaidBlock, mermaidTopology } from "./mermaid";
import {
    loadConfigFile,
    loadStackFile,
    plan,
    PlanRefused,
    planDocument,
    repoRoot,
    StackConfig,
} from "./planner";
import {
    evaluatePolicies,
    loadPolicyConfig,
    PolicyConfig,
    PolicyConfigError,
    Violation,
} from "./policyRunner";
import { renderTree } from "./render";
import { dropStackTraces } from "./stackTraces";

export { dropStackTraces };

/** The largest file the plan reads whole (a stack config, a policy config, a base plan): 16 MiB. */
export const maxInputBytes = 16 * 1024 * 1024;

interface Args {
    stack?: string;
    config?: string;
    json: boolean;
    mermaid: boolean;
    diff?: string;
    policyConfig?: string;
    help: boolean;
}

/** The stacks of this checkout: every `Pulumi.<name>.yaml` beside Pulumi.yaml. */
export function stacksFound(): string[] {
    return fs
        .readdirSync(repoRoot)
        .map((f) => /^Pulumi\.(.+)\.ya?ml$/.exec(f)?.[1])
        .filter((s): s is string => s !== undefined)
        .sort();
}

const shortUsage =
    "usage: npm run plan -- (--stack <name> | --config <file>) [--json | --mermaid] [--diff <base>] " +
    "[--policy-config <file>]; --help for more";

/** The `--help` text. */
export function helpText(): string {
    const stacks = stacksFound();
    return [
        "npm run plan -- (--stack <name> | --config <file>) [options]",
        "",
        "The offline plan: runs the program for a stack's config under Pulumi's mock monitor (a preview: no",
        "cluster, no Pulumi CLI, no credentials), prints what it would create per cluster, and runs the policy",
        "pack on it.",
        "",
        `  --stack <name>          a stack of this project (Pulumi.<name>.yaml); found: ${stacks.join(", ") || "none"}`,
        "  --config <file>         any file shaped like a stack file, instead of --stack",
        "  --json                  the plan as JSON (resources sorted by URN, secrets as [secret]) and the policy results",
        "  --mermaid               the mesh as a Mermaid diagram (networks, clusters, control and read edges)",
        "  --diff <base>           what changes against a base: a plan JSON file (from --json) or a git ref",
        "                          (the program at that commit, planned with its own Pulumi.<stack>.yaml, or",
        "                          with the same --config file);",
        "                          Markdown for a pull-request comment, or JSON with --json",
        "  --policy-config <file>  policy levels and settings (default: policies/config.<stack>.json if present)",
        "  -h, --help              this text",
        "",
        exitCodesHelp,
        "",
    ].join("\n");
}

const refuse = (message: string) => new PlanRefused(message, []);

/** Parses the command line: each flag at most once, values never taken from the next flag. */
export function parseArgs(argv: readonly string[]): Args {
    const args: Args = { json: false, mermaid: false, help: false };
    const seen = new Set<string>();
    const takesValue = new Set(["--stack", "--config", "--policy-config", "--diff"]);
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i]!;
        // `--stack=dev` as well as `--stack dev`.
        const eq = arg.indexOf("=");
        const inline = arg.startsWith("--") && eq > 0 && takesValue.has(arg.slice(0, eq));
        const a = inline ? arg.slice(0, eq) : arg;
        const flag = a === "-h" ? "--help" : a;
        if (seen.has(flag)) throw refuse(`${a} given twice; give each option once. ${shortUsage}`);
        seen.add(flag);
        const value = () => {
            const v = inline ? arg.slice(eq + 1) : argv[++i];
            if (v === undefined || v === "" || (!inline && v.startsWith("-"))) {
                throw refuse(`${a} needs a value. ${shortUsage}`);
            }
            return v;
        };
        if (flag === "--stack") args.stack = value();
        else if (flag === "--config") args.config = value();
        else if (flag === "--policy-config") args.policyConfig = value();
        else if (flag === "--diff") args.diff = value();
        else if (flag === "--json") args.json = true;
        else if (flag === "--mermaid") args.mermaid = true;
        else if (flag === "--help") args.help = true;
        else throw refuse(`unknown argument ${JSON.stringify(arg).slice(0, 80)}. ${shortUsage}`);
    }
    if (args.help) return args;
    if ((args.stack === undefined) === (args.config === undefined)) {
        throw refuse(`give exactly one of --stack and --config. ${shortUsage}`);
    }
    if (args.mermaid && (args.json || args.diff !== undefined)) {
        throw refuse(
            `--mermaid prints the diagram alone; the --diff Markdown already includes it. ${shortUsage}`,
        );
    }
    if (args.stack !== undefined && !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(args.stack)) {
        throw refuse(
            `--stack ${JSON.stringify(args.stack).slice(0, 80)}: a stack name (letters, digits, '-', '_', '.'), not ` +
                `a path; for a file elsewhere use --config <file>`,
        );
    }
    return args;
}

/**
 * Refuses what must not be read whole: anything but a regular file (a directory, a device, a FIFO), and a
 * file above `maxInputBytes`. Checked before reading, on the path as given (symlinks followed).
 */
export function checkInputFile(option: string, file: string): void {
    let st: fs.Stats;
    try {
        st = fs.statSync(file);
    } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        throw refuse(`${option} ${file}: ${code === "ENOENT" ? "no such file" : `cannot read it (${code})`}`);
    }
    if (st.isDirectory()) throw refuse(`${option} ${file}: a directory, not a file`);
    if (!st.isFile()) throw refuse(`${option} ${file}: not a regular file (a device, socket or pipe)`);
    if (st.size > maxInputBytes) {
        throw refuse(`${option} ${file}: ${st.size} bytes, more than the ${maxInputBytes} this reads`);
    }
    try {
        fs.accessSync(file, fs.constants.R_OK);
    } catch {
        throw refuse(`${option} ${file}: not readable`);
    }
}

/**
 * The kubeconfig files the program may read to find a cluster's API server (`$KUBECONFIG`, else
 * ~/.kube/config): one that is there but cannot be read as a file is refused by name, before planning.
 */
export function checkKubeconfigEnv(env: NodeJS.ProcessEnv = process.env): void {
    const list = env.KUBECONFIG;
    if (!list) return;
    for (const file of list.split(path.delimiter).filter(Boolean)) {
        if (!fs.existsSync(file)) continue;
        const st = fs.statSync(file);
        const why = st.isDirectory()
            ? "a directory, not a kubeconfig file"
            : !st.isFile()
              ? "not a regular file"
              : st.size > maxInputBytes
                ? `${st.size} bytes, more than the ${maxInputBytes} this reads`
                : undefined;
        if (why) throw refuse(`KUBECONFIG: ${file}: ${why}; fix or unset KUBECONFIG`);
        try {
            fs.accessSync(file, fs.constants.R_OK);
        } catch {
            throw refuse(`KUBECONFIG: ${file}: not readable; fix its permissions or unset KUBECONFIG`);
        }
    }
}

/**
 * `--policy-config <file>`, else `policies/config.<stack>.json` when it exists, else the pack's defaults
 * (with a note to say so, printed once the plan is made).
 */
function policyConfigFor(args: Args, stack: string): { config: PolicyConfig; note?: string } {
    if (args.policyConfig !== undefined) {
        checkInputFile("--policy-config", args.policyConfig);
        return { config: loadPolicyConfig(args.policyConfig) };
    }
    const file = path.join(repoRoot, "policies", `config.${stack}.json`);
    if (fs.existsSync(file)) return { config: loadPolicyConfig(file) };
    return {
        config: {},
        note:
            `note: no policies/config.${stack}.json: the pack's default levels apply (mandatory but the ` +
            `recommendation); pass --policy-config policies/config.dev.json for dev-grade checks\n`,
    };
}

function renderViolations(vs: readonly Violation[]): string {
    if (vs.length === 0) return "policies: no violations\n";
    const mandatory = vs.filter((v) => v.level === "mandatory").length;
    const lines = vs.map((v) => `  ${v.level} ${v.policy} ${v.urn}: ${v.message}`);
    return (
        [`policies: ${mandatory} mandatory, ${vs.length - mandatory} advisory`, ...lines].join("\n") + "\n"
    );
}

/** The base of `--diff`: a plan document file, or a git ref planned at its commit. */
function baseOf(args: Args, stack: string): { doc: PlanDoc; label: string } {
    const base = args.diff!;
    if (fs.existsSync(base)) {
        checkInputFile("--diff", base);
        return { doc: readPlanDoc(base), label: `\`${path.basename(base)}\`` };
    }
    const commit = resolveCommit(base);
    if (commit === undefined) {
        throw refuse(
            `--diff ${JSON.stringify(base).slice(0, 80)}: neither a file nor a git ref of this checkout`,
        );
    }
    const target = args.stack !== undefined ? { stack } : { config: args.config! };
    return { doc: planAtCommit(commit, target), label: `\`${base}\` (${commit.slice(0, 12)})` };
}

async function main(): Promise<number> {
    try {
        const args = parseArgs(process.argv.slice(2));
        if (args.help) {
            process.stdout.write(helpText());
            return exitCode.done;
        }
        if (args.stack !== undefined) {
            const file = path.join(repoRoot, `Pulumi.${args.stack}.yaml`);
            if (!fs.existsSync(file)) {
                throw refuse(
                    `--stack ${args.stack}: no Pulumi.${args.stack}.yaml; stacks: ${stacksFound().join(", ")}`,
                );
            }
            checkInputFile("--stack", file);
        } else {
            checkInputFile("--config", args.config!);
        }
        checkKubeconfigEnv();
        const config: StackConfig =
            args.stack !== undefined ? loadStackFile(args.stack) : loadConfigFile(args.config!);
        // Read before planning, so that a bad policy config or base fails fast.
        const policies = policyConfigFor(args, config.stack);
        const base = args.diff !== undefined ? baseOf(args, config.stack) : undefined;
        const result = await plan(config);
        const violations = await evaluatePolicies(result.resources, policies.config);
        if (policies.note) process.stderr.write(policies.note);
        const policy = violations.map(({ policy, level, urn, message }) => ({ policy, level, urn, message }));
        const doc = { ...planDocument(result), policy };
        if (base !== undefined) {
            const d = diffPlans(base.doc, doc, base.label);
            if (args.json) {
                process.stdout.write(
                    JSON.stringify({ ...d, mermaid: mermaidTopology(result.outputs) }, null, 2) + "\n",
                );
            } else {
                process.stdout.write(renderDiffMarkdown(d, mermaidTopology(result.outputs)));
            }
        } else if (args.mermaid) {
            process.stdout.write(mermaidBlock(result.outputs));
        } else if (args.json) {
            process.stdout.write(JSON.stringify(doc, null, 2) + "\n");
        } else {
            process.stdout.write(renderTree(result) + "\n" + renderViolations(violations));
        }
        return violations.some((v) => v.level === "mandatory") ? exitCode.failed : exitCode.done;
    } catch (e) {
        if (e instanceof PlanRefused || e instanceof PolicyConfigError) {
            process.stderr.write(`plan refused: ${e.message}\n`);
            return exitCode.refused;
        }
        throw e;
    }
}

if (require.main === module) {
    dropStackTraces();
    main().then(
        // Exit once stdout is flushed: to a pipe it is written asynchronously, and exiting at once would cut a
        // large plan short.
        (code) => process.stdout.write("", () => process.exit(code)),
        (e: unknown) => {
            process.stderr.write(`plan failed: ${e instanceof Error ? e.message : String(e)}\n`);
            process.exit(exitCode.failed);
        },
    );
}
