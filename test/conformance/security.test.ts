/**
 * Mesh security objects against Istio 1.30.3's own CRD schemas: every PeerAuthentication and
 * AuthorizationPolicy the program emits for the repository's stacks and for a config that uses every security
 * setting; the namespaces against Kubernetes' naming rules (core objects, no CRD); istiod's values with trust
 * domain aliases against what the chart accepts.
 */
import { strict as assert } from "node:assert";
import { securityObjects } from "../../stacks/security";
import { validateTopology } from "../../stacks/validate";
import { loadStackFile, Plan, plainInputs, plan } from "../../tools/planner";
import { mesh, primary, rawConfig, remote, stackConfig } from "../support/fixtures";
import { unknownValuePaths, validateIstioObject } from "../support/istioSchemas";

const securityType = /^kubernetes:security\.istio\.io\//;

const everySetting = {
    namespaces: [
        {
            name: "web",
            labels: { team: "web", "example.com/tier": "front" },
            annotations: { "example.com/owner": "web team" },
            denyByDefault: true,
            allow: [
                {
                    name: "from-everything",
                    selector: { app: "web", version: "v1" },
                    from: {
                        principals: ["prod.example.com/ns/web/sa/a", "old.example.com/ns/api/sa/b"],
                        serviceAccounts: ["api/c"],
                        namespaces: ["api", "istio-system"],
                    },
                    to: { methods: ["GET", "POST"], paths: ["/v1/*", "*/healthz"], ports: [8080, 9090] },
                },
                { name: "namespace-wide", from: { namespaces: ["api"] } },
            ],
        },
        { name: "api", mtls: "PERMISSIVE" },
        { name: "vault", allowNothing: true },
        { name: "strict-one", mtls: "STRICT" },
    ],
    security: { mtls: "STRICT", trustDomainAliases: ["old.example.com"] },
};

const everySettingConfig = () =>
    stackConfig(
        mesh({ trustDomain: "prod.example.com", istio: { version: "1.30.3", revision: "1-30-3" } }),
        [primary("p1", "n1"), primary("p2", "n2"), remote("r1", "p1", "n1")],
        {
            extra: {
                "istio-multicluster:namespaces": everySetting.namespaces,
                "istio-multicluster:security": everySetting.security,
            },
        },
    );

const labelKey =
    /^(([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const labelValue = /^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/;
const dnsLabel = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

function problems(p: Plan): string[] {
    const out: string[] = [];
    for (const r of p.resources) {
        const i = plainInputs(r);
        if (securityType.test(r.type)) {
            out.push(
                ...validateIstioObject({
                    apiVersion: i.apiVersion as string,
                    kind: i.kind as string,
                    metadata: i.metadata,
                    spec: i.spec,
                }).map((e) => `${r.name}: ${e}`),
            );
        } else if (r.type === "kubernetes:core/v1:Namespace") {
            const md = i.metadata as { name: string; labels?: Record<string, string>; annotations?: object };
            if (!dnsLabel.test(md.name)) out.push(`${r.name}: name ${md.name}`);
            for (const [k, v] of Object.entries(md.labels ?? {})) {
                if (!labelKey.test(k) || !labelValue.test(v)) out.push(`${r.name}: label ${k}=${v}`);
            }
            for (const k of Object.keys(md.annotations ?? {})) {
                if (!labelKey.test(k)) out.push(`${r.name}: annotation ${k}`);
            }
        }
    }
    return out;
}

const cases: [string, () => Promise<Plan>, number][] = [
    // Objects expected: dev 3 (1 primary); prod 3 primaries x 5; every setting 2 primaries x 8. Plus, in
    // every primary, observability's PeerAuthentication and its 3 AuthorizationPolicies (dev and prod).
    ["the dev stack", () => plan(loadStackFile("dev")), 3 + 4],
    ["the prod stack", () => plan(loadStackFile("prod")), 15 + 3 * 4],
    ["every security setting", () => plan(everySettingConfig()), 14],
];

describe("mesh security conformance with Istio 1.30.3", () => {
    for (const [label, make, count] of cases) {
        it(`${label}: every security object is admitted by its CRD, every namespace well named`, async () => {
            const p = await make();
            assert.equal(p.resources.filter((r) => securityType.test(r.type)).length, count);
            assert.deepEqual(problems(p), []);
        });
    }

    it("the object builder's every shape matches the CRDs", () => {
        const result = validateTopology({
            ...rawConfig(mesh({ trustDomain: "prod.example.com" }), [primary("p1")]),
            ...everySetting,
        });
        assert.ok(result.ok, result.ok ? "" : result.errors.join("\n"));
        const objects = securityObjects(result.topology);
        assert.equal(objects.length, 7);
        for (const obj of objects) {
            assert.deepEqual(validateIstioObject({ ...obj }), [], `${obj.kind} ${obj.metadata.name}`);
        }
    });

    it("istiod accepts the trust domain aliases it is given", async () => {
        const p = await plan(everySettingConfig());
        for (const name of ["p1-istiod", "p2-istiod"]) {
            const values = plainInputs(p.resources.find((r) => r.name === name)!).values as Record<
                string,
                unknown
            >;
            assert.deepEqual((values.meshConfig as Record<string, unknown>).trustDomainAliases, [
                "old.example.com",
            ]);
            assert.deepEqual(unknownValuePaths("istiod", values), []);
        }
    });

    it("catches a mode the CRD does not know, so the checks above can fail", () => {
        const bad = {
            apiVersion: "security.istio.io/v1",
            kind: "PeerAuthentication",
            metadata: { name: "default", namespace: "istio-system" },
            spec: { mtls: { mode: "STRICTER" } },
        };
        assert.notDeepEqual(validateIstioObject(bad), []);
        const misspelt = {
            apiVersion: "security.istio.io/v1",
            kind: "AuthorizationPolicy",
            metadata: { name: "x", namespace: "a" },
            spec: { rules: [{ from: [{ source: { principal: ["a"] } }] }] },
        };
        assert.notDeepEqual(validateIstioObject(misspelt), []);
    });
});
