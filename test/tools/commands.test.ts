/**
 * Every command a user runs answers `--help` and `-h` alike: its usage on stdout, the exit codes every command
 * shares (tools/exitCodes.ts) at the end, exit 0; and a command line it does not know is refused with exit 2.
 */
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { exitCode, exitCodesHelp } from "../../tools/exitCodes";
import { repoRoot } from "../../tools/planner";

const commands = ["plan", "verify", "bench", "clusters", "demo"];

const run = (command: string, args: string[]) =>
    spawnSync(process.execPath, ["--import", "tsx", `tools/${command}.ts`, ...args], {
        cwd: repoRoot,
        encoding: "utf8",
        timeout: 60000,
    });

describe("commands", () => {
    for (const command of commands) {
        describe(command, () => {
            for (const flag of ["--help", "-h"]) {
                it(`${flag}: usage on stdout ending with the shared exit codes, nothing on stderr, exit 0`, () => {
                    const r = run(command, [flag]);
                    assert.deepEqual([r.status, r.stderr], [exitCode.done, ""], r.stderr);
                    assert.ok(r.stdout.includes(`npm run ${command}`), r.stdout);
                    assert.ok(r.stdout.trimEnd().endsWith(exitCodesHelp), r.stdout);
                });
            }

            it("an unknown argument: refused with exit 2, nothing on stdout", () => {
                const r = run(command, ["--no-such-flag"]);
                assert.deepEqual([r.status, r.stdout], [exitCode.refused, ""], r.stderr);
                assert.match(r.stderr, /--no-such-flag/);
            });
        });
    }
});
