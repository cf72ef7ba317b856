/**
 * `loadTopology` inside the program: a refused config stops the program before it registers anything,
 * and key material given in plain text is refused while the same value held as a secret is accepted.
 */
import { strict as assert } from "node:assert";
import * as k8s from "@pulumi/kubernetes";
import { loadTopology } from "../../stacks/config";
import { displayInputs, evaluate, plan, PlanRefused, PlannedResource, runProgram } from "../../tools/planner";
import { mesh, primary, remote, stackConfig, topologyConfig } from "../support/fixtures";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const runtimeSettings = require("@pulumi/pulumi/runtime/settings") as { getMonitor(): unknown };

interface Registration {
    getType(): string;
    getName(): string;
}
type Monitor = { registerResource(req: Registration, cb: unknown): void };

/**
 * Wraps `program` so that every registration the monitor receives is listed in `seen` (the stack itself
 * excepted): a refusal throws away the planner's records, so the test keeps its own.
 */
function spying(program: () => Record<string, unknown>, seen: string[]): () => Record<string, unknown> {
    return () => {
        const monitor = runtimeSettings.getMonitor() as Monitor;
        const register = monitor.registerResource.bind(monitor);
        monitor.registerResource = (req, cb) => {
            if (req.getType() !== "pulumi:pulumi:Stack") seen.push(`${req.getType()}::${req.getName()}`);
            register(req, cb);
        };
        return program();
    };
}

async function refusal(p: Promise<unknown>): Promise<PlanRefused> {
    try {
        await p;
    } catch (e) {
        assert.ok(e instanceof PlanRefused, `not a PlanRefused: ${String(e)}`);
        return e;
    }
    assert.fail("the config was accepted");
}

const badConfig = () =>
    stackConfig(mesh({ meshId: "Mesh_1" }), [
        primary("cluster1", "network1"),
        remote("cluster2", "cluster9", "network2"),
    ]);
const badProblems = [
    `istio-multicluster:mesh.meshId: "Mesh_1" is not a DNS-1123 label (lower-case letters, digits and '-', ` +
        `starting and ending with a letter or digit)`,
    `istio-multicluster:clusters[1].primary: "cluster9" is no cluster of the mesh; a primary is removed only once no remote names it: move this remote to another primary (primaries are: cluster1) or remove it too`,
];

describe("loadTopology", () => {
    it("a refused config registers no resource at all (the whole program)", async () => {
        const seen: string[] = [];
        const e = await refusal(evaluate(badConfig(), spying(runProgram, seen)));
        assert.deepEqual(e.problems, badProblems);
        assert.deepEqual(seen, []);
    });

    it("the same spy sees the program's resources when the config is good", async () => {
        const seen: string[] = [];
        const p = await evaluate(topologyConfig("primaryRemoteMultiNetwork"), spying(runProgram, seen));
        assert.ok(seen.includes("pulumi:providers:kubernetes::cluster1"), seen.join("\n"));
        const registered = p.resources
            .filter((r) => r.type !== "pulumi:pulumi:Stack" && r.readId === undefined)
            .map((r) => `${r.type}::${r.name}`);
        assert.deepEqual([...seen].sort(), registered.sort());
    });

    it("plan() refuses with every problem, in a message that lists them one per line", async () => {
        const e = await refusal(plan(badConfig()));
        assert.deepEqual(e.problems, badProblems);
        assert.equal(
            e.message,
            "the stack configuration describes no possible mesh (2 problems):\n" +
                badProblems.map((p) => `  - ${p}`).join("\n"),
        );
    });

    it("a program that creates a resource after loadTopology creates none when refused", async () => {
        const seen: string[] = [];
        const program = () => {
            const topology = loadTopology();
            new k8s.core.v1.Namespace("after-load", {});
            return { meshId: topology.mesh.meshId };
        };
        const e = await refusal(evaluate(badConfig(), spying(program, seen)));
        assert.deepEqual(e.problems, badProblems);
        assert.deepEqual(seen, []);
    });

    it("refuses a mesh value that is not an object", async () => {
        const e = await refusal(plan(stackConfig("mesh1", [primary("cluster1")])));
        assert.deepEqual(e.problems, ['istio-multicluster:mesh: must be a map, got "mesh1"']);
    });

    describe("kubeconfig", () => {
        const kubeconfig = "apiVersion: v1\nkind: Config\nusers: [{name: u, user: {token: t0ken}}]\n";
        const clusters = (value: unknown) => [
            primary("cluster1", "network1", { context: undefined, kubeconfig: value }),
            remote("cluster2", "cluster1", "network2"),
        ];

        it("is refused in plain text", async () => {
            const e = await refusal(plan(stackConfig(mesh(), clusters(kubeconfig))));
            assert.deepEqual(e.problems, [
                `istio-multicluster:clusters[0].kubeconfig: holds key material in plain text; set it with ` +
                    `\`pulumi config set --secret --path 'istio-multicluster:clusters[0].kubeconfig' ` +
                    `< kubeconfig.yaml\``,
            ]);
        });

        it("is accepted as `secure:`, and reaches the provider as a secret", async () => {
            const p = await plan(stackConfig(mesh(), clusters({ secure: "v1:AAAA" })));
            const provider = p.resources.find(
                (r: PlannedResource) => r.type === "pulumi:providers:kubernetes" && r.name === "cluster1",
            );
            assert.ok(provider);
            assert.equal(displayInputs(provider).kubeconfig, "[secret]");
            assert.equal(displayInputs(provider).context, undefined);
        });
    });
});
