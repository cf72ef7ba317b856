/**
 * `npm run clusters -- up --names a,b,c --dir D [--lb ip|hostname]` and `npm run clusters -- down --dir D`:
 * local Kubernetes clusters made of real control-plane processes (tools/clusters/local.ts).
 *
 * `up` builds what is missing into .e2e/bin, starts one cluster per name and returns when every API server
 * answers /readyz, the `default` ServiceAccount exists and the simulated node is Ready. It writes
 * `D/kubeconfig` (one admin context per cluster, named as the cluster); the processes keep running, their logs
 * under D. `down` stops them all.
 *
 * Exit codes (tools/exitCodes.ts, as every command): 0 done; 1 it failed (a process did not come up); 2 the command was refused (bad input, a
 * directory in use, no Go toolchain); nothing is left running after 1 or 2.
 */
import "./requireNode";
import { exitCode, exitCodesHelp } from "./exitCodes";
import * as path from "node:path";
import { ClustersRefused, ensureBinaries } from "./clusters/build";
import { down, up } from "./clusters/local";
import { LbMode } from "./clusters/state";

export const usage = [
    "usage: npm run clusters -- up --names a,b,c --dir D [--lb ip|hostname]",
    "       npm run clusters -- down --dir D",
    "       npm run clusters -- build      (build what is missing into .e2e/bin; up does it too)",
].join("\n");

interface Args {
    command: "up" | "down" | "build" | "help";
    names: string[];
    dir?: string;
    lb: LbMode;
}

export function parseArgs(argv: readonly string[]): Args {
    const args: Args = { command: "help", names: [], lb: "ip" };
    const [command, ...rest] = argv;
    if (command === "--help" || command === "-h" || command === undefined) return args;
    if (command !== "up" && command !== "down" && command !== "build")
        throw new ClustersRefused(`unknown command ${command}; the commands are up, down and build (--help)`);
    args.command = command;
    for (let i = 0; i < rest.length; i++) {
        const a = rest[i]!;
        const value = () => {
            const v = rest[++i];
            if (v === undefined || v.startsWith("--")) throw new ClustersRefused(`${a} needs a value`);
            return v;
        };
        if (a === "--help" || a === "-h") args.command = "help";
        else if (a === "--names" && command === "up")
            args.names = value()
                .split(",")
                .map((n) => n.trim());
        else if (a === "--dir" && command !== "build") args.dir = value();
        else if (a === "--lb" && command === "up") {
            const v = value();
            if (v !== "ip" && v !== "hostname") throw new ClustersRefused(`--lb ${v}: give ip or hostname`);
            args.lb = v;
        } else throw new ClustersRefused(`unknown argument ${a} for ${command}`);
    }
    if ((args.command === "up" || args.command === "down") && !args.dir)
        throw new ClustersRefused(`--dir is required`);
    return args;
}

export async function main(
    argv: readonly string[],
    out: (s: string) => void,
    err: (s: string) => void,
): Promise<number> {
    let args: Args;
    try {
        args = parseArgs(argv);
    } catch (e) {
        err(`clusters: ${(e as Error).message}\n`);
        return exitCode.refused;
    }
    if (args.command === "help") {
        out(`${usage}\n\n${exitCodesHelp}\n`);
        return exitCode.done;
    }
    const log = (s: string) => err(`clusters: ${s}\n`);
    try {
        if (args.command === "up") {
            const started = Date.now();
            const state = await up({ names: args.names, dir: args.dir!, lb: args.lb, log });
            out(
                `${state.clusters.length} clusters up in ${Math.round((Date.now() - started) / 1000)}s: ` +
                    `kubeconfig ${path.join(state.dir, "kubeconfig")} (contexts ${state.clusters.map((c) => c.name).join(", ")})\n`,
            );
        } else if (args.command === "build") {
            const started = Date.now();
            const built = await ensureBinaries(log);
            out(
                built.length === 0
                    ? `.e2e/bin is current\n`
                    : `built ${built.join(", ")} in ${Math.round((Date.now() - started) / 1000)}s\n`,
            );
        } else {
            await down(args.dir!, log);
        }
        return exitCode.done;
    } catch (e) {
        const refused = e instanceof ClustersRefused;
        err(`clusters ${args.command} ${refused ? "refused" : "failed"}: ${(e as Error).message}\n`);
        return refused ? exitCode.refused : exitCode.failed;
    }
}

if (require.main === module) {
    void main(
        process.argv.slice(2),
        (s) => process.stdout.write(s),
        (s) => process.stderr.write(s),
    ).then((code) => process.exit(code));
}
