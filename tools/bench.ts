/**
 * `npm run bench [-- --quick | --runs <n> | --only <shape>:<n>[,...] | --write-readme]`: what a plan costs as
 * the mesh grows, measured honestly. Each run is a whole `npm run plan -- --config <file> --json` process
 * (start-up, program, policies and output), timed from spawn to exit, with the peak resident memory the
 * process reports itself (tools/benchProbe.ts). Beside each size, in the same run, the floor: what
 * `@pulumi/pulumi` alone needs to register the same resources with the same providers, components and
 * dependency edges under the same mocks (tools/benchFloor.ts, derived from that size's plan). Plan and floor
 * alternate, and the table shows medians.
 *
 * Sizes: full meshes of 2 to 100 primaries, one primary with 1 to 99 remotes, and a regional mesh of five
 * primaries with ten remotes each; all multi-network, with global services, an external service and ingress.
 */
import "./requireNode";
import { exitCode, exitCodesHelp, wantsHelp } from "./exitCodes";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { floorShape, isComponentType, PlanDocLike } from "./benchFloor";
import { longestChain } from "./graph";
import type { PlannedResource } from "./planner";
import type { RemoteSecretLayout } from "../stacks/remoteSecrets";

/** The meshes the bench plans. */
export type Shape = "multi-primary" | "primary-remote" | "regional";

/** Clusters per region in a regional mesh: one primary and ten remotes. */
export const regionSize = 11;

/**
 * A mesh of `n` clusters of the given shape (`regional`: `n` a multiple of `regionSize`), with remote secrets
 * in the given layout (`mesh.remoteSecrets`; not set when absent).
 */
export function benchConfig(shape: Shape, n: number, layout?: RemoteSecretLayout): Record<string, unknown> {
    if (shape === "regional" && n % regionSize !== 0) {
        throw new Error(`a regional mesh has ${regionSize} clusters per region; ${n} is not a multiple`);
    }
    const clusters = Array.from({ length: n }, (_, i) => {
        const name = `c${i + 1}`;
        const primary =
            shape === "multi-primary" || i === 0 || (shape === "regional" && i % regionSize === 0);
        const primaryOf = shape === "regional" ? `c${i - (i % regionSize) + 1}` : "c1";
        const region = shape === "regional" ? Math.floor(i / regionSize) + 1 : (i % 3) + 1;
        return {
            name,
            role: primary ? "primary" : "remote",
            ...(primary ? {} : { primary: primaryOf }),
            network: `net${i + 1}`,
            region: `region${region}`,
            context: `ctx-${name}`,
            apiServer: `https://10.${Math.floor(i / 250)}.${i % 250}.1:6443`,
        };
    });
    return {
        config: {
            "istio-multicluster:mesh": {
                meshId: "bench",
                istio: { version: "1.30.3" },
                ...(layout ? { remoteSecrets: layout } : {}),
            },
            "istio-multicluster:clusters": clusters,
            ...benchTraffic(clusters.map((c) => c.region)),
            // Observability on at every size (hardening is on by default): a Prometheus per cluster, federated by
            // c1, which also runs Jaeger and Grafana.
            "istio-multicluster:observability": { hub: clusters[0]!.name, tracing: { samplingPercent: 1 } },
        },
    };
}

/**
 * Traffic on every size: a global service with region failover and a canary, another with locality weights,
 * an external service and an ingress host, so the traffic objects are measured with the mesh.
 */
function benchTraffic(clusterRegions: readonly string[]): Record<string, unknown> {
    const regions = [...new Set(clusterRegions)];
    return {
        "istio-multicluster:namespaces": [{ name: "sample" }, { name: "shop" }],
        "istio-multicluster:services": [
            {
                name: "helloworld",
                namespace: "sample",
                ports: [{ number: 5000, protocol: "HTTP" }],
                ...(regions.length > 1 ? { failover: { order: regions } } : {}),
                canary: [
                    { subset: "v1", labels: { version: "v1" }, weight: 90 },
                    { subset: "v2", labels: { version: "v2" }, weight: 10 },
                ],
            },
            {
                name: "api",
                namespace: "shop",
                ports: [{ number: 8080, protocol: "GRPC" }],
                failover: { priority: ["topology.istio.io/network", "topology.istio.io/cluster"] },
            },
        ],
        "istio-multicluster:externalServices": [
            { name: "httpbin", hosts: ["httpbin.org"], ports: [{ number: 443, protocol: "TLS" }] },
        ],
        "istio-multicluster:ingress": {
            hosts: [{ host: "hello.example.com", service: "helloworld", credentialName: "hello-tls" }],
        },
    };
}

/** One size of the bench. */
export interface Size {
    readonly shape: Shape;
    readonly clusters: number;
    /** `mesh.remoteSecrets`; absent: not set (per-cluster). */
    readonly layout?: RemoteSecretLayout;
}

/** The full bench: up to 100 clusters. */
export const fullSizes: readonly Size[] = [
    ...[2, 10, 25, 50, 100].map((clusters): Size => ({ shape: "multi-primary", clusters })),
    ...[2, 10, 50, 100].map((clusters): Size => ({ shape: "primary-remote", clusters })),
    { shape: "regional", clusters: 5 * regionSize },
    ...[50, 100].map((clusters): Size => ({ shape: "multi-primary", clusters, layout: "per-reader" })),
];

/** `--quick`: small sizes only, for a check that must stay fast. */
export const quickSizes: readonly Size[] = [
    { shape: "multi-primary", clusters: 2 },
    { shape: "multi-primary", clusters: 5 },
    { shape: "primary-remote", clusters: 2 },
];

/** The bench's command line. */
export interface BenchArgs {
    readonly sizes: readonly Size[];
    readonly runs: number;
    readonly writeReadme: boolean;
    /** Run the floor as the plan process runs (no stack traces, no source maps), not with the SDK's defaults. */
    readonly floorLikePlan: boolean;
}

const benchUsage =
    "usage: npm run bench -- [--quick] [--runs <n>=3] [--only <shape>:<clusters>[:per-reader][,...]] " +
    "[--floor-like-plan] [--write-readme]; shapes: multi-primary, primary-remote, regional; --help for more";

/** The `--help` text. */
export const benchHelp = [
    "npm run bench -- [--quick] [--runs <n>] [--only <shape>:<clusters>[:per-reader][,...]] [--floor-like-plan]",
    "                 [--write-readme]",
    "",
    "Times the offline plan of generated meshes (the plan process from spawn to exit, and its peak resident",
    "memory) beside the SDK's floor (an empty program under the same mock runtime); medians of the runs.",
    "",
    "  --quick            the small sizes only",
    "  --runs <n>         runs per size (default 3)",
    "  --only <sizes>     e.g. multi-primary:50,primary-remote:10:per-reader; shapes: multi-primary,",
    "                     primary-remote, regional (clusters a multiple of the region size)",
    "  --floor-like-plan  run the floor as the plan runs (no stack traces, no source maps)",
    "  --write-readme     rewrite README.md's Scale table (needs the full bench)",
    "  -h, --help         this text",
    "",
    exitCodesHelp,
    "",
].join("\n");

/** Parses the bench's command line; throws with the usage on anything it does not know. */
export function parseBenchArgs(argv: readonly string[]): BenchArgs {
    let sizes: readonly Size[] = fullSizes;
    let runs = 3;
    let writeReadme = false;
    let quick = false;
    let only = false;
    let floorLikePlan = false;
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i]!;
        if (a === "--quick") {
            quick = true;
            sizes = quickSizes;
        } else if (a === "--write-readme") {
            writeReadme = true;
        } else if (a === "--floor-like-plan") {
            floorLikePlan = true;
        } else if (a === "--runs") {
            const v = argv[++i];
            if (v === undefined || !/^[1-9][0-9]*$/.test(v))
                throw new Error(`--runs needs a count. ${benchUsage}`);
            runs = Number(v);
        } else if (a === "--only") {
            const v = argv[++i];
            if (v === undefined) throw new Error(`--only needs sizes. ${benchUsage}`);
            only = true;
            sizes = v.split(",").map((s) => {
                const m =
                    /^(multi-primary|primary-remote|regional):([1-9][0-9]*)(:per-reader|:per-cluster)?$/.exec(
                        s,
                    );
                const clusters = Number(m?.[2]);
                if (
                    !m ||
                    (m[1] !== "regional" && clusters < 2) ||
                    (m[1] === "regional" && clusters % regionSize)
                ) {
                    throw new Error(`--only ${JSON.stringify(s)}: not <shape>:<clusters>. ${benchUsage}`);
                }
                const layout = m[3]?.slice(1) as RemoteSecretLayout | undefined;
                return { shape: m[1] as Shape, clusters, ...(layout ? { layout } : {}) };
            });
        } else {
            throw new Error(`unknown argument ${JSON.stringify(a).slice(0, 80)}. ${benchUsage}`);
        }
    }
    if (quick && only) throw new Error(`give --quick or --only, not both. ${benchUsage}`);
    if (writeReadme && (quick || only || runs < 3 || floorLikePlan)) {
        throw new Error(
            `--write-readme needs the full bench (every size, at least 3 runs, the SDK's floor). ${benchUsage}`,
        );
    }
    return { sizes, runs, writeReadme, floorLikePlan };
}

/** The median of the values (the mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
    if (values.length === 0) throw new Error("median of nothing");
    const s = [...values].sort((a, b) => a - b);
    const mid = Math.floor(s.length / 2);
    return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** What one plan document says about the mesh: resources, remote secrets and the longest chain. */
export function measurePlanDoc(doc: PlanDocLike): {
    resources: number;
    remoteSecrets: number;
    chain: number;
} {
    const remoteSecrets = doc.resources.filter((r) => {
        if (r.type !== "kubernetes:core/v1:Secret") return false;
        const labels = (r.inputs.metadata as { labels?: Record<string, unknown> } | undefined)?.labels;
        return labels?.["istio/multiCluster"] === "true";
    }).length;
    const asPlanned = doc.resources.map(
        (r) =>
            ({
                urn: r.urn,
                name: r.name,
                custom: !isComponentType(r.type),
                dependsOn: r.dependsOn,
            }) as PlannedResource,
    );
    return { resources: doc.resources.length, remoteSecrets, chain: longestChain(asPlanned).length };
}

/** One row of the table: a size, its plan's measures, and medians of plan and floor. */
export interface Row extends Size {
    readonly resources: number;
    readonly remoteSecrets: number;
    readonly chain: number;
    readonly planSeconds: number;
    readonly planMiB: number;
    readonly floorSeconds: number;
    readonly floorMiB: number;
    readonly runs: number;
}

/** How a size reads in the table. */
export function meshLabel(s: Size): string {
    const layout = s.layout ? `, ${s.layout}` : "";
    if (s.shape === "multi-primary") return `${s.clusters} primaries${layout}`;
    if (s.shape === "regional") {
        return `${s.clusters / regionSize} × (1 primary + ${regionSize - 1} remotes)${layout}`;
    }
    return `1 primary + ${s.clusters - 1} remote${s.clusters === 2 ? "" : "s"}${layout}`;
}

/** The Markdown table of the rows. */
export function renderTable(rows: readonly Row[]): string {
    const lines = [
        "| mesh | clusters | resources | remote secrets | longest chain | plan s | floor s | plan/floor | " +
            "plan MiB | floor MiB |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ];
    for (const r of rows) {
        lines.push(
            `| ${meshLabel(r)} | ${r.clusters} | ${r.resources} | ${r.remoteSecrets} | ${r.chain} | ` +
                `${r.planSeconds.toFixed(2)} | ${r.floorSeconds.toFixed(2)} | ` +
                `${(r.planSeconds / r.floorSeconds).toFixed(2)}x | ${r.planMiB.toFixed(0)} | ${r.floorMiB.toFixed(0)} |`,
        );
    }
    return lines.join("\n") + "\n";
}

/** The machine and date the table was measured on, for the line above it. */
export function machineLine(now: Date = new Date()): string {
    const gib = os.totalmem() / 1024 ** 3;
    return (
        `Measured ${now.toISOString().slice(0, 10)} on ${os.cpus().length} cores (${os.cpus()[0]?.model.trim() ?? "?"}), ` +
        `${gib.toFixed(0)} GiB, Node ${process.version}, Linux ${os.release()}`
    );
}

const readmeStart = "<!-- bench:start -->";
const readmeEnd = "<!-- bench:end -->";

/** The README with the text between the bench markers replaced. */
export function replaceReadmeBlock(readme: string, block: string): string {
    const a = readme.indexOf(readmeStart);
    const b = readme.indexOf(readmeEnd);
    if (a < 0 || b < a) throw new Error(`README.md has no ${readmeStart} ... ${readmeEnd} block`);
    return readme.slice(0, a + readmeStart.length) + "\n\n" + block.trim() + "\n\n" + readme.slice(b);
}

const root = path.resolve(__dirname, "..");
const probe = pathToFileURL(path.join(__dirname, "benchProbe.ts")).href;

/** Runs one node process under tsx with the probe; returns its wall seconds, peak MiB and stdout. */
function timed(script: string, args: readonly string[], okCodes: readonly number[], tmp: string) {
    const probeFile = path.join(tmp, "probe.json");
    fs.rmSync(probeFile, { force: true });
    const started = process.hrtime.bigint();
    const r = spawnSync(process.execPath, ["--import", "tsx", "--import", probe, script, ...args], {
        cwd: root,
        encoding: "utf8",
        env: { ...process.env, BENCH_PROBE: probeFile },
        maxBuffer: 1024 * 1024 * 1024,
    });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (r.status === null || !okCodes.includes(r.status)) {
        throw new Error(
            `${script} ${args.join(" ")} exited ${r.status ?? r.signal}: ${r.stderr.slice(-2000)}`,
        );
    }
    const { maxRSSKiB } = JSON.parse(fs.readFileSync(probeFile, "utf8")) as { maxRSSKiB: number };
    return { seconds, mib: maxRSSKiB / 1024, stdout: r.stdout };
}

/** Plans and floors one size `runs` times, alternating; progress on stderr. */
function benchSize(size: Size, args: BenchArgs, label: string, tmp: string): Row {
    const { runs } = args;
    const config = path.join(tmp, `${size.shape}-${size.clusters}-${size.layout ?? "default"}.yaml`);
    fs.writeFileSync(config, JSON.stringify(benchConfig(size.shape, size.clusters, size.layout)));
    const shapeFile = path.join(tmp, "shape.json");
    const plans: { seconds: number; mib: number }[] = [];
    const floors: { seconds: number; mib: number }[] = [];
    let measures: ReturnType<typeof measurePlanDoc> | undefined;
    for (let i = 0; i < runs; i++) {
        // Exit 1 is a mandatory policy violation: the plan was still made and printed.
        const p = timed(
            "tools/plan.ts",
            ["--config", config, "--json"],
            [exitCode.done, exitCode.failed],
            tmp,
        );
        if (measures === undefined) {
            const doc = JSON.parse(p.stdout) as PlanDocLike;
            measures = measurePlanDoc(doc);
            fs.writeFileSync(shapeFile, JSON.stringify(floorShape(doc)));
        }
        plans.push(p);
        const f = timed(
            "tools/benchFloor.ts",
            [shapeFile, ...(args.floorLikePlan ? ["--like-plan"] : [])],
            [0],
            tmp,
        );
        const { readMillis } = JSON.parse(f.stdout) as { readMillis: number };
        floors.push({ seconds: f.seconds - readMillis / 1000, mib: f.mib });
        process.stderr.write(
            `bench: ${label} ${meshLabel(size)}, run ${i + 1}/${runs}: ${measures.resources} resources, ` +
                `plan ${p.seconds.toFixed(2)} s ${p.mib.toFixed(0)} MiB, floor ${floors[i]!.seconds.toFixed(2)} s ` +
                `${f.mib.toFixed(0)} MiB\n`,
        );
    }
    return {
        ...size,
        ...measures!,
        planSeconds: median(plans.map((x) => x.seconds)),
        planMiB: median(plans.map((x) => x.mib)),
        floorSeconds: median(floors.map((x) => x.seconds)),
        floorMiB: median(floors.map((x) => x.mib)),
        runs,
    };
}

function main(args: BenchArgs): void {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "bench-"));
    try {
        const rows = args.sizes.map((s, i) => benchSize(s, args, `${i + 1}/${args.sizes.length}`, tmp));
        const floor = args.floorLikePlan
            ? "the floor run as the plan runs (no stack traces, no source maps)"
            : "the floor with the SDK's defaults (stack traces, source maps under tsx)";
        const block = `${machineLine()}; medians of ${args.runs} runs; ${floor}.\n\n${renderTable(rows)}`;
        process.stdout.write(block);
        if (args.writeReadme) {
            const file = path.join(root, "README.md");
            fs.writeFileSync(file, replaceReadmeBlock(fs.readFileSync(file, "utf8"), block));
            // The project's format check covers the README: align the table as Prettier does.
            spawnSync(path.join(root, "node_modules", ".bin", "prettier"), ["--write", file], { cwd: root });
            process.stderr.write("bench: README.md's Scale table rewritten\n");
        }
    } finally {
        fs.rmSync(tmp, { recursive: true, force: true });
    }
}

if (require.main === module) {
    const argv = process.argv.slice(2);
    if (wantsHelp(argv)) {
        process.stdout.write(benchHelp);
        process.exit(exitCode.done);
    }
    let args: BenchArgs;
    try {
        args = parseBenchArgs(argv);
    } catch (e) {
        process.stderr.write(`bench refused: ${e instanceof Error ? e.message : String(e)}\n`);
        process.exit(exitCode.refused);
    }
    try {
        main(args);
    } catch (e) {
        process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`);
        process.exit(exitCode.failed);
    }
}
