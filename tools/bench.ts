/**
 * `npm run bench`: how the plan grows with the mesh. For multi-primary meshes of 2, 5, 10 and 20 clusters and
 * one primary with 1, 4, 9 and 19 remotes (all multi-network, load-balancer addresses, with global services,
 * an external service and ingress, hardening and tracing on): resources, remote secrets, the longest dependency chain, plan seconds and
 * peak memory. Each size runs in its own process so
 * that memory is that plan's alone.
 */
import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { longestChain } from "./graph";
import { plan, stackConfigFromDocument } from "./planner";
import { remoteSecretName } from "../stacks/names";

type Shape = "multi-primary" | "primary-remote";

/** A mesh of `n` clusters of the given shape. */
export function benchConfig(shape: Shape, n: number): Record<string, unknown> {
    const clusters = Array.from({ length: n }, (_, i) => {
        const name = `c${i + 1}`;
        const primary = shape === "multi-primary" || i === 0;
        return {
            name,
            role: primary ? "primary" : "remote",
            ...(primary ? {} : { primary: "c1" }),
            network: `net${i + 1}`,
            region: `region${(i % 3) + 1}`,
            context: `ctx-${name}`,
            apiServer: `https://10.0.${i}.1:6443`,
        };
    });
    return {
        config: {
            "istio-multicluster:mesh": { meshId: "bench", istio: { version: "1.30.3" } },
            "istio-multicluster:clusters": clusters,
            ...benchTraffic(n),
            // Observability on at every size (hardening is on by default): tracing to c1's collector.
            "istio-multicluster:observability": { hub: "c1", tracing: { samplingPercent: 1 } },
        },
    };
}

/**
 * Traffic on every size: a global service with region failover and a canary, another with locality weights,
 * an external service and an ingress host, so the traffic objects are measured with the mesh.
 */
function benchTraffic(n: number): Record<string, unknown> {
    const regions = [...new Set(Array.from({ length: n }, (_, i) => `region${(i % 3) + 1}`))];
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

async function one(shape: Shape, n: number): Promise<void> {
    const result = await plan(stackConfigFromDocument(`bench-${shape}-${n}`, benchConfig(shape, n), "bench"));
    // Remote secrets by the Secret they create, not by their resource names.
    const links = result.resources.filter((r) => {
        const name = (r.rawInputs.metadata as { name?: unknown } | undefined)?.name;
        return (
            r.type === "kubernetes:core/v1:Secret" &&
            typeof name === "string" &&
            name.startsWith(remoteSecretName(""))
        );
    });
    const chain = longestChain(result.resources);
    process.stdout.write(
        JSON.stringify({
            shape,
            clusters: n,
            resources: result.resources.length,
            links: links.length,
            chain: chain.length,
            seconds: result.millis / 1000,
            peakMiB: process.resourceUsage().maxRSS / 1024,
        }) + "\n",
    );
}

interface Row {
    shape: Shape;
    clusters: number;
    resources: number;
    links: number;
    chain: number;
    seconds: number;
    peakMiB: number;
}

function main(): void {
    const rows: Row[] = [];
    const sizes: [Shape, number][] = [
        ...[2, 5, 10, 20].map((n): [Shape, number] => ["multi-primary", n]),
        ...[2, 5, 10, 20].map((n): [Shape, number] => ["primary-remote", n]),
    ];
    for (const [i, [shape, n]] of sizes.entries()) {
        // Progress on stderr, so that stdout stays the table alone.
        process.stderr.write(`bench: ${i + 1}/${sizes.length} ${shape}, ${n} clusters ... `);
        const out = execFileSync(
            process.execPath,
            ["--import", "tsx", __filename, "--one", shape, String(n)],
            {
                cwd: path.resolve(__dirname, ".."),
                encoding: "utf8",
            },
        );
        const row = JSON.parse(out.trim().split("\n").pop()!) as Row;
        process.stderr.write(`${row.resources} resources, ${row.seconds.toFixed(2)} s\n`);
        rows.push(row);
    }
    const header =
        "| mesh | clusters | resources | remote secrets | longest chain | plan s | ms/resource | peak MiB |";
    const lines = [header, "|---|---|---|---|---|---|---|---|"];
    for (const r of rows) {
        const mesh =
            r.shape === "multi-primary"
                ? `${r.clusters} primaries`
                : `1 primary + ${r.clusters - 1} remote${r.clusters === 2 ? "" : "s"}`;
        lines.push(
            `| ${mesh} | ${r.clusters} | ${r.resources} | ${r.links} | ${r.chain} | ${r.seconds.toFixed(2)} | ` +
                `${((r.seconds * 1000) / r.resources).toFixed(2)} | ${r.peakMiB.toFixed(0)} |`,
        );
    }
    process.stdout.write(lines.join("\n") + "\n");
    for (const shape of ["multi-primary", "primary-remote"] as const) {
        const of = rows.filter((r) => r.shape === shape);
        const chains = new Set(of.map((r) => r.chain));
        const first = of[0]!;
        const last = of[of.length - 1]!;
        const ratio = last.seconds / last.resources / (first.seconds / first.resources);
        process.stdout.write(
            `${shape}: longest chain ${chains.size === 1 ? "constant" : "GROWS"} (${[...chains].join(", ")}); ` +
                `time per resource at ${last.clusters} clusters is ${ratio.toFixed(2)}x that at ${first.clusters}\n`,
        );
    }
}

const argv = process.argv.slice(2);
if (argv[0] === "--one") {
    one(argv[1] as Shape, Number(argv[2])).then(
        () => process.exit(0),
        (e: unknown) => {
            process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
            process.exit(1);
        },
    );
} else {
    main();
}
