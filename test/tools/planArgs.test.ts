/**
 * The plan's command line: `--help`, flags given twice, a stack that is a path, inputs that are not files
 * or are too large to read whole, an unreadable KUBECONFIG. Parsing and file checks are tested in-process;
 * a few runs of the CLI prove the exit codes and that nothing is planned.
 */
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
    checkInputFile,
    checkKubeconfigEnv,
    helpText,
    maxInputBytes,
    parseArgs,
    stacksFound,
} from "../../tools/plan";
import { exitCodesHelp } from "../../tools/exitCodes";
import { plan, repoRoot } from "../../tools/planner";
import { mesh, primary, remote, stackConfig } from "../support/fixtures";

function cli(args: string[], env: NodeJS.ProcessEnv = process.env) {
    return spawnSync(process.execPath, ["--import", "tsx", "tools/plan.ts", ...args], {
        cwd: repoRoot,
        encoding: "utf8",
        timeout: 30_000,
        env,
    });
}

const usage =
    "usage: npm run plan -- (--stack <name> | --config <file>) [--json | --mermaid] [--diff <base>] " +
    "[--policy-config <file>]; --help for more";

describe("plan command line", () => {
    describe("parseArgs", () => {
        it("takes each flag and its value", () => {
            assert.deepEqual(
                parseArgs(["--stack", "dev", "--json", "--diff", "main", "--policy-config", "p.json"]),
                {
                    json: true,
                    mermaid: false,
                    help: false,
                    stack: "dev",
                    diff: "main",
                    policyConfig: "p.json",
                },
            );
        });

        it("takes --flag=value as well", () => {
            assert.deepEqual(parseArgs(["--stack=dev", "--diff=origin/main", "--json"]), {
                json: true,
                mermaid: false,
                help: false,
                stack: "dev",
                diff: "origin/main",
            });
        });

        it("--help and -h need nothing else", () => {
            assert.equal(parseArgs(["--help"]).help, true);
            assert.equal(parseArgs(["-h"]).help, true);
        });

        const refused: [string[], string][] = [
            [["--stack", "dev", "--stack", "prod"], `--stack given twice; give each option once. ${usage}`],
            [["--stack", "dev", "--json", "--json"], `--json given twice; give each option once. ${usage}`],
            [["-h", "--help"], `--help given twice; give each option once. ${usage}`],
            [["--stack"], `--stack needs a value. ${usage}`],
            [["--stack", "--json"], `--stack needs a value. ${usage}`],
            [["--stack", "dev", "--verbose"], `unknown argument "--verbose". ${usage}`],
            [["--stack=dev", "--stack", "prod"], `--stack given twice; give each option once. ${usage}`],
            [["--stack="], `--stack needs a value. ${usage}`],
            [["--json=yes", "--stack", "dev"], `unknown argument "--json=yes". ${usage}`],
            [["--json"], `give exactly one of --stack and --config. ${usage}`],
            [["--stack", "dev", "--config", "x.yaml"], `give exactly one of --stack and --config. ${usage}`],
            [
                ["--stack", "dev", "--mermaid", "--json"],
                `--mermaid prints the diagram alone; the --diff Markdown already includes it. ${usage}`,
            ],
            [
                ["--stack", "../Pulumi.dev.yaml"],
                `--stack "../Pulumi.dev.yaml": a stack name (letters, digits, '-', '_', '.'), not a path; for a ` +
                    "file elsewhere use --config <file>",
            ],
            [
                ["--stack", "/etc/passwd"],
                `--stack "/etc/passwd": a stack name (letters, digits, '-', '_', '.'), not a path; for a file ` +
                    "elsewhere use --config <file>",
            ],
            [
                ["--stack", ".hidden"],
                `--stack ".hidden": a stack name (letters, digits, '-', '_', '.'), not a path; for a file ` +
                    "elsewhere use --config <file>",
            ],
        ];
        for (const [argv, message] of refused) {
            it(`refuses ${argv.join(" ")}`, () => {
                assert.throws(() => parseArgs(argv), { name: "PlanRefused", message });
            });
        }
    });

    describe("input files", () => {
        let dir: string;
        beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "plan-args-"))));
        afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

        it("refuses a directory, a device, a missing file and a file above the limit, before reading", () => {
            const big = path.join(dir, "big.yaml");
            fs.writeFileSync(big, "");
            fs.truncateSync(big, maxInputBytes + 1);
            const cases: [string, string][] = [
                [dir, `--config ${dir}: a directory, not a file`],
                ["/dev/zero", "--config /dev/zero: not a regular file (a device, socket or pipe)"],
                [path.join(dir, "nope.yaml"), `--config ${path.join(dir, "nope.yaml")}: no such file`],
                [
                    big,
                    `--config ${big}: ${maxInputBytes + 1} bytes, more than the ${maxInputBytes} this reads`,
                ],
            ];
            for (const [file, message] of cases) {
                assert.throws(() => checkInputFile("--config", file), { name: "PlanRefused", message });
            }
            const ok = path.join(dir, "ok.yaml");
            fs.writeFileSync(ok, "config: {}\n");
            assert.doesNotThrow(() => checkInputFile("--config", ok));
        });

        it("names a KUBECONFIG entry that is a directory or a device; missing entries are skipped as kubectl does", () => {
            const missing = path.join(dir, "missing");
            assert.throws(() => checkKubeconfigEnv({ KUBECONFIG: [missing, dir].join(path.delimiter) }), {
                name: "PlanRefused",
                message: `KUBECONFIG: ${dir}: a directory, not a kubeconfig file; fix or unset KUBECONFIG`,
            });
            assert.throws(() => checkKubeconfigEnv({ KUBECONFIG: "/dev/null" }), {
                message: "KUBECONFIG: /dev/null: not a regular file; fix or unset KUBECONFIG",
            });
            const file = path.join(dir, "config");
            fs.writeFileSync(file, "apiVersion: v1\n");
            assert.doesNotThrow(() =>
                checkKubeconfigEnv({ KUBECONFIG: [missing, file].join(path.delimiter) }),
            );
            assert.doesNotThrow(() => checkKubeconfigEnv({}));
        });
    });

    describe("the program, without the CLI's checks", () => {
        it("names a KUBECONFIG entry it cannot read instead of failing with EISDIR", async () => {
            const saved = process.env.KUBECONFIG;
            process.env.KUBECONFIG = os.tmpdir();
            try {
                // c1 reads c2, whose API server address would come from its context in the kubeconfig.
                const c2 = remote("c2", "c1");
                delete c2.apiServer;
                await assert.rejects(plan(stackConfig(mesh(), [primary("c1"), c2])), {
                    message: `KUBECONFIG: ${os.tmpdir()} cannot be read as a kubeconfig file (EISDIR); fix or unset KUBECONFIG`,
                });
            } finally {
                if (saved === undefined) delete process.env.KUBECONFIG;
                else process.env.KUBECONFIG = saved;
            }
        });
    });

    describe("the CLI", () => {
        it("--help: usage with the stacks found, every flag and the exit codes, on stdout, exit 0", () => {
            const run = cli(["--help"]);
            assert.equal(run.status, 0, run.stderr);
            assert.equal(run.stdout, helpText());
            assert.equal(run.stderr, "");
            assert.ok(stacksFound().includes("dev") && stacksFound().includes("prod"));
            assert.ok(run.stdout.includes(`found: ${stacksFound().join(", ")}\n`));
            for (const flag of [
                "--stack",
                "--config",
                "--json",
                "--mermaid",
                "--diff",
                "--policy-config",
                "--help",
            ]) {
                assert.match(run.stdout, new RegExp(`^ +(-h, )?${flag} `, "m"), flag);
            }
            assert.ok(run.stdout.endsWith(`${exitCodesHelp}\n`), run.stdout);
        });

        it("a refused command line: exit 2, one line on stderr, nothing on stdout", () => {
            const runs = [
                cli(["--stack", "dev", "--stack", "dev"]),
                cli(["--stack", "nosuch"]),
                cli(["--stack", "dev"], { ...process.env, KUBECONFIG: os.tmpdir() }),
            ];
            assert.deepEqual(
                runs.map((r) => [r.status, r.stdout, r.stderr]),
                [
                    [2, "", `plan refused: --stack given twice; give each option once. ${usage}\n`],
                    [
                        2,
                        "",
                        `plan refused: --stack nosuch: no Pulumi.nosuch.yaml; stacks: ${stacksFound().join(", ")}\n`,
                    ],
                    [
                        2,
                        "",
                        `plan refused: KUBECONFIG: ${os.tmpdir()}: a directory, not a kubeconfig file; fix or unset KUBECONFIG\n`,
                    ],
                ],
            );
        });
    });
});
