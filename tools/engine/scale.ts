/**
 * `node --import tsx tools/engine/scale.ts [--clusters 10] [--dir D]`: the real engine beside the offline plan,
 * on one mesh of N local clusters, in one run. Half the clusters are primaries, each on a network of its own;
 * the other half remotes, each on its primary's network. Prints the offline plan's time, the real `pulumi
 * preview` and `pulumi up` times, the ratios, the peak memory of the engine (the CLI and every process under it:
 * language host, program, providers) and of the clusters. The README's Scale section quotes its output.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";
import { ensureBinaries } from "../clusters/build";
import { down, up } from "../clusters/local";
import { LocalStack } from "./stack";
import { repoRoot } from "../planner";

/** Resident memory (MiB) of `root` and every process under it, from /proc. */
function treeRssMiB(root: number): number {
    const parent = new Map<number, number>();
    const rss = new Map<number, number>();
    for (const entry of fs.readdirSync("/proc")) {
        if (!/^\d+$/.test(entry)) continue;
        try {
            const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
            const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
            parent.set(Number(entry), Number(fields[1]));
            rss.set(Number(entry), (Number(fields[21]) * 4096) / 2 ** 20);
        } catch {
            // gone meanwhile
        }
    }
    let total = 0;
    for (const [pid, mib] of rss) {
        for (let p: number | undefined = pid; p !== undefined && p > 1; p = parent.get(p)) {
            if (p === root) {
                total += mib;
                break;
            }
        }
    }
    return total;
}

function topology(n: number): { clusters: Record<string, string>[]; primaries: string[] } {
    const primaries = Array.from({ length: Math.ceil(n / 2) }, (_, i) => `p${i + 1}`);
    const remotes = Array.from({ length: n - primaries.length }, (_, i) => `r${i + 1}`);
    return {
        primaries,
        clusters: [
            ...primaries.map((p, i) => ({ name: p, role: "primary", network: `n${i + 1}`, context: p })),
            ...remotes.map((r, i) => ({
                name: r,
                role: "remote",
                primary: primaries[i]!,
                network: `n${i + 1}`,
                context: r,
            })),
        ],
    };
}

async function main(argv: readonly string[]): Promise<void> {
    const n = Number(argv[argv.indexOf("--clusters") + 1] ?? 10) || 10;
    const dir = path.resolve(argv.includes("--dir") ? argv[argv.indexOf("--dir") + 1]! : `.e2e/scale-${n}`);
    const log = (s: string) => process.stderr.write(`scale: ${s}\n`);
    await ensureBinaries(log);
    const { clusters, primaries } = topology(n);
    fs.rmSync(dir, { recursive: true, force: true });
    const mesh = await up({
        names: clusters.map((c) => c.name!),
        dir: path.join(dir, "clusters"),
        lb: "ip",
        log,
    });
    try {
        const stackFile = path.join(dir, "Pulumi.scale.yaml");
        fs.writeFileSync(
            stackFile,
            YAML.stringify({
                config: {
                    "istio-multicluster:mesh": { meshId: "scale-mesh", istio: { version: "1.30.3" } },
                    "istio-multicluster:clusters": clusters,
                    "istio-multicluster:smokeTest": { enabled: false },
                    "istio-multicluster:hardening": { mode: "light" },
                },
            }),
        );
        const local = await LocalStack.create({
            stack: "scale",
            stackFile,
            workDir: path.join(dir, "engine"),
            kubeconfig: path.join(mesh.dir, "kubeconfig"),
            meshId: "scale-mesh",
            primaries,
            version: "1.30.3",
            requireCharts: true,
        });
        const { cwd, env } = local;
        let peak = 0;
        const run = async (args: string[]) => {
            let timer: NodeJS.Timeout | undefined;
            const r = await local
                .ok(args, {
                    onSpawn: (pid) => {
                        timer = setInterval(() => (peak = Math.max(peak, treeRssMiB(pid))), 500);
                    },
                })
                .finally(() => clearInterval(timer));
            return r;
        };
        const planStarted = Date.now();
        execFileSync(
            process.execPath,
            [
                "--import",
                "tsx",
                path.join(repoRoot, "tools", "plan.ts"),
                "--config",
                path.join(cwd, "Pulumi.scale.yaml"),
                "--policy-config",
                path.join(repoRoot, "policies", "config.dev.json"),
            ],
            { cwd, env, stdio: "ignore" },
        );
        const planMs = Date.now() - planStarted;
        peak = 0;
        const preview = await run(["preview"]);
        const previewPeak = peak;
        peak = 0;
        const applied = await run(["up", "--yes", "--skip-preview"]);
        const created =
            /(\d+) created/.exec(applied.stdout.slice(applied.stdout.lastIndexOf("Resources:")))?.[1] ?? "?";
        const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
        process.stdout.write(
            [
                `${n} clusters (${primaries.length} primaries, ${n - primaries.length} remotes), ${created} resources:`,
                `  offline plan ${s(planMs)}; pulumi preview ${s(preview.ms)} (${(preview.ms / planMs).toFixed(1)}x the plan); ` +
                    `pulumi up ${s(applied.ms)} (${(applied.ms / planMs).toFixed(1)}x)`,
                `  peak memory of the engine and the program: preview ${Math.round(previewPeak)} MiB, up ${Math.round(peak)} MiB`,
                "",
            ].join("\n"),
        );
    } finally {
        await down(mesh.dir, log);
    }
}

if (require.main === module) {
    main(process.argv.slice(2)).catch((e: Error) => {
        process.stderr.write(`scale failed: ${e.message}\n`);
        process.exit(1);
    });
}
