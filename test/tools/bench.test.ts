/**
 * The bench's logic at tiny sizes (the bench itself is not part of `npm test`): its meshes, its command line,
 * medians, what it reads off a plan, the README block, and the floor registering exactly the plan's resources,
 * parents, providers and dependency edges.
 */
import { strict as assert } from "node:assert";
import {
    benchConfig,
    fullSizes,
    measurePlanDoc,
    median,
    meshLabel,
    parseBenchArgs,
    quickSizes,
    renderTable,
    replaceReadmeBlock,
    Row,
} from "../../tools/bench";
import { floorShape, registerShape } from "../../tools/benchFloor";
import { evaluate, plan, planDocument, stackConfigFromDocument } from "../../tools/planner";

type ClusterDoc = { name: string; role: string; primary?: string; region: string; network: string };
const clustersOf = (doc: Record<string, unknown>) =>
    (doc.config as Record<string, unknown>)["istio-multicluster:clusters"] as ClusterDoc[];

describe("bench", () => {
    describe("benchConfig", () => {
        it("a regional mesh: one primary and ten remotes per region, each remote of its region's primary", () => {
            const clusters = clustersOf(benchConfig("regional", 22));
            assert.equal(clusters.length, 22);
            assert.deepEqual(
                clusters.filter((c) => c.role === "primary").map((c) => c.name),
                ["c1", "c12"],
            );
            assert.deepEqual(clusters.map((c) => `${c.name}:${c.primary ?? "-"}:${c.region}`).slice(9, 13), [
                "c10:c1:region1",
                "c11:c1:region1",
                "c12:-:region2",
                "c13:c12:region2",
            ]);
        });
        it("sets mesh.remoteSecrets only when given a layout", () => {
            const meshOf = (d: Record<string, unknown>) =>
                (d.config as Record<string, unknown>)["istio-multicluster:mesh"];
            assert.deepEqual(meshOf(benchConfig("multi-primary", 2)), {
                meshId: "bench",
                istio: { version: "1.30.3" },
            });
            assert.deepEqual(meshOf(benchConfig("multi-primary", 2, "per-reader")), {
                meshId: "bench",
                istio: { version: "1.30.3" },
                remoteSecrets: "per-reader",
            });
        });
        it("a full mesh has only primaries; primary-remote one primary", () => {
            assert.deepEqual(
                clustersOf(benchConfig("multi-primary", 3)).map((c) => c.role),
                ["primary", "primary", "primary"],
            );
            assert.deepEqual(
                clustersOf(benchConfig("primary-remote", 3)).map((c) => `${c.role}:${c.primary ?? "-"}`),
                ["primary:-", "remote:c1", "remote:c1"],
            );
        });
        it("refuses a regional mesh that is not whole regions", () => {
            assert.throws(
                () => benchConfig("regional", 12),
                /^Error: a regional mesh has 11 clusters per region; 12 is not a multiple$/,
            );
        });
    });

    describe("parseBenchArgs", () => {
        it("defaults to every size up to 100 clusters, three runs", () => {
            assert.deepEqual(parseBenchArgs([]), {
                sizes: fullSizes,
                runs: 3,
                writeReadme: false,
                floorLikePlan: false,
            });
            assert.deepEqual(
                fullSizes.map((s) => `${s.shape}:${s.clusters}${s.layout ? `:${s.layout}` : ""}`),
                [
                    "multi-primary:2",
                    "multi-primary:10",
                    "multi-primary:25",
                    "multi-primary:50",
                    "multi-primary:100",
                    "primary-remote:2",
                    "primary-remote:10",
                    "primary-remote:50",
                    "primary-remote:100",
                    "regional:55",
                    "multi-primary:50:per-reader",
                    "multi-primary:100:per-reader",
                ],
            );
        });
        it("--quick, --runs, --only", () => {
            assert.deepEqual(parseBenchArgs(["--quick"]), {
                sizes: quickSizes,
                runs: 3,
                writeReadme: false,
                floorLikePlan: false,
            });
            assert.deepEqual(
                parseBenchArgs(["--only", "multi-primary:50:per-reader,regional:55", "--runs", "5"]),
                {
                    sizes: [
                        { shape: "multi-primary", clusters: 50, layout: "per-reader" },
                        { shape: "regional", clusters: 55 },
                    ],
                    runs: 5,
                    writeReadme: false,
                    floorLikePlan: false,
                },
            );
            assert.equal(parseBenchArgs(["--floor-like-plan"]).floorLikePlan, true);
        });
        it("refuses what it does not know, and a README table from less than the full bench", () => {
            const usage =
                "usage: npm run bench -- [--quick] [--runs <n>=3] [--only <shape>:<clusters>[:per-reader][,...]] " +
                "[--floor-like-plan] [--write-readme]; shapes: multi-primary, primary-remote, regional; --help for more";
            const cases: [string[], string][] = [
                [["--fast"], `unknown argument "--fast". ${usage}`],
                [["--runs", "0"], `--runs needs a count. ${usage}`],
                [["--only", "mesh:5"], `--only "mesh:5": not <shape>:<clusters>. ${usage}`],
                [["--only", "regional:12"], `--only "regional:12": not <shape>:<clusters>. ${usage}`],
                [["--quick", "--only", "multi-primary:2"], `give --quick or --only, not both. ${usage}`],
                [
                    ["--quick", "--write-readme"],
                    `--write-readme needs the full bench (every size, at least 3 runs, the SDK's floor). ${usage}`,
                ],
                [
                    ["--floor-like-plan", "--write-readme"],
                    `--write-readme needs the full bench (every size, at least 3 runs, the SDK's floor). ${usage}`,
                ],
            ];
            for (const [argv, message] of cases) assert.throws(() => parseBenchArgs(argv), { message });
        });
    });

    it("median: the middle value, or the mean of the middle two", () => {
        assert.equal(median([3, 1, 2]), 2);
        assert.equal(median([4, 1, 3, 2]), 2.5);
        assert.throws(() => median([]), /median of nothing/);
    });

    it("renders a row with the plan/floor ratio, and replaces only the README's bench block", () => {
        const row: Row = {
            shape: "regional",
            clusters: 55,
            resources: 1000,
            remoteSecrets: 50,
            chain: 10,
            planSeconds: 6,
            planMiB: 400.4,
            floorSeconds: 4,
            floorMiB: 300,
            runs: 3,
        };
        assert.equal(meshLabel(row), "5 × (1 primary + 10 remotes)");
        assert.equal(
            meshLabel({ shape: "multi-primary", clusters: 100, layout: "per-reader" }),
            "100 primaries, per-reader",
        );
        assert.equal(
            renderTable([row]).split("\n")[2],
            "| 5 × (1 primary + 10 remotes) | 55 | 1000 | 50 | 10 | 6.00 | 4.00 | 1.50x | 400 | 300 |",
        );
        assert.equal(
            replaceReadmeBlock("a\n<!-- bench:start -->\nold\n<!-- bench:end -->\nb\n", "new\n"),
            "a\n<!-- bench:start -->\n\nnew\n\n<!-- bench:end -->\nb\n",
        );
        assert.throws(() => replaceReadmeBlock("no block", "x"), /README.md has no <!-- bench:start -->/);
    });

    describe("on a 2-primary plan", () => {
        let doc: ReturnType<typeof planDocument>;
        before(async () => {
            doc = planDocument(
                await plan(stackConfigFromDocument("bench", benchConfig("multi-primary", 2), "t")),
            );
        });

        it("reads resources, remote secrets (by their istio/multiCluster label) and the longest chain", () => {
            // 102: the stack's read of its own last outputs (the root rotation's check) counts too.
            assert.deepEqual(measurePlanDoc(doc), { resources: 102, remoteSecrets: 2, chain: 7 });
        });

        it("the floor registers exactly the plan's resources, parents, providers and dependency edges", async () => {
            const shape = floorShape(doc);
            assert.equal(shape.length, doc.resources.length - 1, "every resource but the stack");
            for (const [i, r] of shape.entries()) {
                for (const j of [r.parent, r.provider, ...r.dependsOn])
                    assert.ok(j < i, `${r.name} before ${j}`);
            }
            const floor = planDocument(
                await evaluate(stackConfigFromDocument("bench", { config: {} }, "t"), () => {
                    registerShape(shape);
                    return {};
                }),
            );
            const skeleton = (d: typeof doc) =>
                d.resources.map(({ urn, type, parent, cluster, dependsOn }) => ({
                    urn,
                    type,
                    parent,
                    cluster,
                    dependsOn,
                }));
            assert.deepEqual(skeleton(floor), skeleton(doc));
        });
    });
});
