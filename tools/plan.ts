/**
 * `npm run plan -- --stack <name> | --config <file> [--json]`: the offline plan. Evaluates the program for a
 * stack config under Pulumi's mock monitor in preview mode: no cluster, no Pulumi CLI, no credentials.
 *
 * Exit codes: 0 the plan was made; 1 the config was refused (every problem on stderr); 2 a mandatory policy
 * violation.
 */
import { loadConfigFile, loadStackFile, plan, PlanRefused, planDocument, StackConfig } from "./planner";
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

async function main(): Promise<number> {
    let args: Args;
    let config: StackConfig;
    try {
        args = parseArgs(process.argv.slice(2));
        config = args.stack !== undefined ? loadStackFile(args.stack) : loadConfigFile(args.config!);
        const result = await plan(config);
        if (args.json) {
            process.stdout.write(JSON.stringify(planDocument(result), null, 2) + "\n");
        } else {
            process.stdout.write(renderTree(result));
        }
        return 0;
    } catch (e) {
        if (e instanceof PlanRefused) {
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
