/**
 * `npm run plan -- --stack <name> | --config <file> [--json]`: the offline plan. Evaluates the program for a
 * stack config under Pulumi's mock monitor in preview mode: no cluster, no Pulumi CLI, no credentials.
 *
 * Exit codes: 0 the plan was made; 1 the config was refused (every problem on stderr); 2 a mandatory policy
 * violation.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import {
    evaluatePolicies,
    loadPolicyConfig,
    PolicyConfig,
    PolicyConfigError,
    Violation,
} from "../policies/runner";
import {
    loadConfigFile,
    loadStackFile,
    plan,
    PlanRefused,
    planDocument,
    repoRoot,
    StackConfig,
} from "./planner";
import { renderTree } from "./render";

interface Args {
    stack?: string;
    config?: string;
    json: boolean;
    policyConfig?: string;
}

const usage = "usage: npm run plan -- (--stack <name> | --config <file>) [--json] [--policy-config <file>]";

function parseArgs(argv: string[]): Args {
    const args: Args = { json: false };
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        const value = () => {
            const v = argv[++i];
            if (v === undefined || v.startsWith("--"))
                throw new PlanRefused(`${a} needs a value; ${usage}`, []);
            return v;
        };
        if (a === "--stack") args.stack = value();
        else if (a === "--config") args.config = value();
        else if (a === "--policy-config") args.policyConfig = value();
        else if (a === "--json") args.json = true;
        else throw new PlanRefused(`unknown argument ${a}; ${usage}`, []);
    }
    if ((args.stack === undefined) === (args.config === undefined)) {
        throw new PlanRefused(`give exactly one of --stack and --config; ${usage}`, []);
    }
    return args;
}

/**
 * `--policy-config <file>`, else `policies/config.<stack>.json` when it exists, else the pack's defaults
 * (with a note to say so, printed once the plan is made).
 */
function policyConfigFor(args: Args, stack: string): { config: PolicyConfig; note?: string } {
    if (args.policyConfig !== undefined) return { config: loadPolicyConfig(args.policyConfig) };
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

async function main(): Promise<number> {
    try {
        const args = parseArgs(process.argv.slice(2));
        const config: StackConfig =
            args.stack !== undefined ? loadStackFile(args.stack) : loadConfigFile(args.config!);
        // Read before planning, so that a bad policy config fails fast.
        const policies = policyConfigFor(args, config.stack);
        const result = await plan(config);
        const violations = await evaluatePolicies(result.resources, policies.config);
        if (policies.note) process.stderr.write(policies.note);
        if (args.json) {
            const policy = violations.map(({ policy, level, urn, message }) => ({
                policy,
                level,
                urn,
                message,
            }));
            process.stdout.write(JSON.stringify({ ...planDocument(result), policy }, null, 2) + "\n");
        } else {
            process.stdout.write(renderTree(result) + "\n" + renderViolations(violations));
        }
        return violations.some((v) => v.level === "mandatory") ? 2 : 0;
    } catch (e) {
        if (e instanceof PlanRefused || e instanceof PolicyConfigError) {
            process.stderr.write(`plan refused: ${e.message}\n`);
            return 1;
        }
        throw e;
    }
}

main().then(
    (code) => process.exit(code),
    (e: unknown) => {
        process.stderr.write(`plan failed: ${e instanceof Error ? e.message : String(e)}\n`);
        process.exit(1);
    },
);
