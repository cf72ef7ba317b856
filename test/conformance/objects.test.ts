/**
 * Everything the program hands to Istio, checked against Istio's own reference data: every Istio object
 * against its CRD schema, every chart's values against what that chart accepts. Run over the repository's
 * stacks and a topology that sets every optional knob, so that no emitted shape goes unchecked.
 */
import { strict as assert } from "node:assert";
import { crossNetworkGateway, istiodGateway, istiodVirtualService } from "../../stacks/istioObjects";
import { isUnknown, loadStackFile, Plan, plainInputs, plan } from "../../tools/planner";
import { mesh, primary, remote, stackConfig } from "../support/fixtures";
import { isIstioRelease } from "../support/releases";
import {
    IstioChart,
    unknownValuePaths,
    validateGatewayValues,
    validateIstioObject,
} from "../support/istioSchemas";

/** Values with each unknown (known only after apply) replaced by a string, which is what it will be. */
function known(v: unknown): unknown {
    if (isUnknown(v)) return "203.0.113.1";
    if (Array.isArray(v)) return v.map(known);
    if (typeof v === "object" && v !== null)
        return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, known(x)]));
    return v;
}

function releaseProblems(p: Plan): string[] {
    const problems: string[] = [];
    // Istio's charts only: the observability charts' values are checked by rendering them (test/charts).
    for (const r of p.resources.filter(isIstioRelease)) {
        const inputs = plainInputs(r);
        const chart = inputs.chart as IstioChart;
        const values = known(inputs.values) as Record<string, unknown>;
        const found = [
            ...unknownValuePaths(chart, values).map((path) => `unknown value ${path}`),
            ...(chart === "gateway" ? validateGatewayValues(values) : []),
        ];
        problems.push(...found.map((f) => `${r.name} (${chart}): ${f}`));
    }
    return problems;
}

function objectProblems(p: Plan): string[] {
    return p.resources
        .filter((r) => r.type.startsWith("kubernetes:networking.istio.io/"))
        .flatMap((r) => {
            const i = plainInputs(r);
            return validateIstioObject({
                apiVersion: i.apiVersion as string,
                kind: i.kind as string,
                metadata: i.metadata,
                spec: i.spec,
            }).map((e) => `${r.name}: ${e}`);
        });
}

const everyKnob = stackConfig(
    mesh({
        istio: { version: "1.30.3", revision: "1-30-3" },
        controlPlane: {
            replicas: 3,
            pdb: true,
            resources: { requests: { cpu: "1", memory: "2Gi" }, limits: { memory: "4Gi" } },
        },
        eastWest: {
            serviceType: "LoadBalancer",
            sourceRanges: ["10.0.0.0/8", "fd00::/8"],
            serviceAnnotations: { "service.beta.kubernetes.io/aws-load-balancer-internal": "true" },
            autoscale: { min: 2, max: 6 },
            pdb: true,
            resources: { requests: { cpu: "100m", memory: "128Mi" } },
        },
    }),
    [
        primary("p1", "n1"),
        primary("p2", "n2", { eastWest: { replicas: 2, address: "gw.p2.example.com" } }),
        remote("r1", "p1", "n3", {
            eastWest: { serviceType: "NodePort", address: "192.0.2.10", sourceRanges: [] },
        }),
    ],
);

const cases: [string, () => Promise<Plan>][] = [
    ["the dev stack", () => plan(loadStackFile("dev"))],
    ["the prod stack", () => plan(loadStackFile("prod"))],
    ["every optional knob", () => plan(everyKnob)],
    [
        "a single-network primary-remote mesh",
        () => plan(stackConfig(mesh(), [primary("c1"), remote("c2", "c1")])),
    ],
];

describe("conformance with Istio 1.30.3", () => {
    for (const [label, make] of cases) {
        describe(label, () => {
            let p: Plan;
            before(async () => {
                p = await make();
            });
            it("gives every chart only values it accepts", () => {
                assert.ok(
                    p.resources.some((r) => r.type === "kubernetes:helm.sh/v3:Release"),
                    "no release to check",
                );
                assert.deepEqual(releaseProblems(p), []);
            });
            it("emits Istio objects that their CRD schemas admit", () => {
                assert.ok(
                    p.resources.some((r) => r.type.startsWith("kubernetes:networking.istio.io/")),
                    "no object to check",
                );
                assert.deepEqual(objectProblems(p), []);
            });
        });
    }

    it("the object builders match their CRDs with and without a revision", () => {
        for (const obj of [
            crossNetworkGateway(),
            istiodGateway(),
            istiodVirtualService(),
            istiodVirtualService("canary"),
        ]) {
            assert.deepEqual(validateIstioObject({ ...obj }), [], `${obj.kind} ${obj.metadata.name}`);
        }
    });

    it("catches a value the chart does not know, so the checks above can fail", () => {
        assert.deepEqual(unknownValuePaths("istiod", { global: { meshId: "m" } }), ["global.meshId"]);
        const bad = {
            ...crossNetworkGateway(),
            spec: {
                servers: [
                    {
                        port: { number: 15443, name: "tls", protocol: "TLS" },
                        tls: { mode: "PASSTHRU" },
                        hosts: ["*.local"],
                    },
                ],
            },
        };
        assert.notDeepEqual(validateIstioObject(bad), []);
    });
});
