/**
 * stacks/security/: every refusal of `istio-multicluster:namespaces` and `:security` with its exact message
 * (all at once, through `validateTopology` too), and the exact objects each cluster receives in primary-remote,
 * multi-primary and mixed meshes.
 */
import { strict as assert } from "node:assert";
import { allowNothingAnnotation as packAnnotation, securityPolicies } from "../../policies/security";
import {
    allowNothingAnnotation,
    namespaceMetadata,
    objectResourceName,
    securityObjects,
    securityPlan,
    SecurityResult,
    validateSecurity,
} from "../../stacks/security";
import { Topology } from "../../stacks/topology";
import { validateTopology } from "../../stacks/validate";
import { mesh, primary, rawConfig, remote } from "../support/fixtures";
import { labelledKey } from "../support/testPki";

const N = "istio-multicluster:namespaces";
const S = "istio-multicluster:security";
const ctx = { trustDomain: "cluster.local" };

function errors(result: SecurityResult): readonly string[] {
    assert.equal(result.ok, false, "the config was accepted");
    return result.ok ? [] : result.errors;
}

function accepted(result: SecurityResult) {
    assert.ok(result.ok, `refused: ${result.ok ? "" : result.errors.join("\n")}`);
    return result;
}

/** The dev stack's sample namespace. */
const sample = () => ({
    name: "sample",
    denyByDefault: true,
    allow: [
        {
            name: "helloworld-from-sleep",
            selector: { app: "helloworld" },
            from: { serviceAccounts: ["sample/sleep"] },
            to: { methods: ["GET"] },
        },
    ],
});

describe("validateSecurity", () => {
    it("defaults: no namespaces, STRICT mTLS, no aliases", () => {
        const r = accepted(validateSecurity(undefined, undefined, ctx));
        assert.deepEqual(r.namespaces, []);
        assert.deepEqual(r.security, { mtls: "STRICT", trustDomainAliases: [] });
    });

    it("reads a namespace with labels, annotations, an mTLS override and rules in every form", () => {
        const r = accepted(
            validateSecurity(
                [
                    {
                        name: "shop",
                        labels: { team: "web", "example.com/tier": "front" },
                        annotations: { "example.com/owner": "web team" },
                        mtls: "PERMISSIVE",
                        denyByDefault: true,
                        allow: [
                            {
                                name: "from-everywhere",
                                from: {
                                    principals: [
                                        "cluster.local/ns/shop/sa/web",
                                        "old.example.com/ns/pay/sa/x",
                                    ],
                                    serviceAccounts: ["pay/checkout", "shop/web"],
                                    namespaces: ["pay", "istio-system"],
                                },
                                to: {
                                    methods: ["GET", "POST"],
                                    paths: ["/api/*", "*/health"],
                                    ports: [8080],
                                },
                            },
                        ],
                    },
                    { name: "pay", allowNothing: true },
                ],
                { mtls: "PERMISSIVE", trustDomainAliases: ["old.example.com"] },
                ctx,
            ),
        );
        assert.deepEqual(r.security, { mtls: "PERMISSIVE", trustDomainAliases: ["old.example.com"] });
        assert.deepEqual(r.namespaces, [
            {
                name: "shop",
                labels: { team: "web", "example.com/tier": "front" },
                annotations: { "example.com/owner": "web team" },
                mtls: "PERMISSIVE",
                denyByDefault: true,
                allowNothing: false,
                allow: [
                    {
                        name: "from-everywhere",
                        from: {
                            principals: [
                                "cluster.local/ns/shop/sa/web",
                                "old.example.com/ns/pay/sa/x",
                                "cluster.local/ns/pay/sa/checkout",
                            ],
                            namespaces: ["pay", "istio-system"],
                        },
                        to: { methods: ["GET", "POST"], paths: ["/api/*", "*/health"], ports: [8080] },
                    },
                ],
                index: 0,
            },
            {
                name: "pay",
                labels: {},
                annotations: {},
                denyByDefault: true,
                allowNothing: true,
                allow: [],
                index: 1,
            },
        ]);
    });

    const refused: {
        name: string;
        namespaces?: unknown;
        security?: unknown;
        revision?: string;
        errors: string[];
    }[] = [
        {
            name: "wrong shapes",
            namespaces: { sample: {} },
            security: "STRICT",
            errors: [`${S}: must be a map, got "STRICT"`, `${N}: must be a list of namespaces, got a map`],
        },
        {
            name: "an unknown key, a bad mode, DISABLE, a bad alias",
            namespaces: [{ name: "a", mtls: "DISABLE", denyByDefualt: true }],
            security: { mtls: "strict", trustDomainAliases: ["cluster.local", "Bad_Domain", "x.io", "x.io"] },
            errors: [
                `${S}.mtls: "strict" is not one of: STRICT, PERMISSIVE; set STRICT or PERMISSIVE`,
                `${S}.trustDomainAliases[0]: "cluster.local" is the mesh's own trust domain (\`mesh.trustDomain\`); remove it`,
                `${S}.trustDomainAliases[1]: "Bad_Domain" is not a DNS name such as old.example.com`,
                `${N}[0].denyByDefualt: unknown key; did you mean \`denyByDefault\`?`,
                `${N}[0].mtls: "DISABLE" is not one of: STRICT, PERMISSIVE; DISABLE would take workloads out of mTLS; use PERMISSIVE for a migration window`,
            ],
        },
        {
            name: "names that are not DNS labels, reserved, duplicated or missing",
            namespaces: [
                { name: "Sample" },
                { name: "istio-system" },
                { name: "kube-system" },
                { name: "default" },
                { name: "a" },
                { name: "a" },
                { labels: {} },
                "b",
                { name: "x".repeat(64) },
            ],
            errors: [
                `${N}[0].name: "Sample" is not a DNS-1123 label (at most 63 lower-case letters, digits and '-', starting and ending with a letter or digit)`,
                `${N}[1].name: "istio-system" is Istio's root namespace, which the program manages; list only application namespaces`,
                `${N}[2].name: "kube-system" is reserved by Kubernetes for its own system; list only application namespaces`,
                `${N}[3].name: "default" exists in every cluster and cannot be created here; put the workloads in a namespace of their own`,
                `${N}[5].name: "a" is already listed at namespaces[4]`,
                `${N}[6].name: required; set it to the namespace's name`,
                `${N}[7]: must be a map with at least \`name\`, got "b"`,
                `${N}[8].name: "${"x".repeat(40)}…" (64 characters) is not a DNS-1123 label (at most 63 lower-case letters, digits and '-', starting and ending with a letter or digit)`,
            ],
        },
        {
            name: "labels that conflict with the injection label, and malformed labels and annotations",
            revision: "1-30-3",
            namespaces: [
                {
                    name: "a",
                    labels: {
                        "istio-injection": "enabled",
                        "istio.io/rev": "canary",
                        "topology.istio.io/network": "n1",
                        "bad key!": "x",
                        team: "has space",
                        n: 1,
                    },
                    annotations: { "a/b/c": "x", ok: "any text at all" },
                },
            ],
            errors: [
                `${N}[0].labels["bad key!"]: "bad key!" is not a Kubernetes label key ([prefix/]name, name at most 63 letters, digits, '-', '_' or '.')`,
                `${N}[0].labels["team"]: "has space" is not a label value (at most 63 letters, digits, '-', '_' or '.')`,
                `${N}[0].labels["n"]: must be a string, got 1; quote it in YAML`,
                `${N}[0].labels["istio-injection"]: conflicts with the injection label the program sets (istio.io/rev=1-30-3, from \`mesh.istio\`); remove it, or name a revision or tag in \`revision\``,
                `${N}[0].labels["istio.io/rev"]: conflicts with the injection label the program sets (istio.io/rev=1-30-3, from \`mesh.istio\`); remove it, or name a revision or tag in \`revision\``,
                `${N}[0].labels["topology.istio.io/network"]: is set by the program on each cluster's istio-system; remove it (namespaces span networks)`,
                `${N}[0].annotations["a/b/c"]: "a/b/c" is not a Kubernetes annotation key ([prefix/]name, name at most 63 letters, digits, '-', '_' or '.')`,
            ],
        },
        {
            name: "rules: unknown namespaces, foreign trust domains, malformed principals, names and operations",
            namespaces: [
                {
                    name: "a",
                    denyByDefault: true,
                    allow: [
                        {
                            name: "r1",
                            from: {
                                principals: [
                                    "cluster.local/ns/a/sa/web",
                                    "evil.example.com/ns/a/sa/web",
                                    "spiffe://cluster.local/ns/a/sa/web",
                                    "cluster.local/ns/b/sa/web",
                                    "a/web",
                                ],
                                serviceAccounts: ["sampel/sleep", "sleep"],
                                namespaces: ["kube-system"],
                            },
                            to: { methods: ["get"], paths: ["api"], ports: [0, "80"] },
                        },
                        { name: "r1", from: {} },
                        { name: "allow-nothing", from: { namespaces: ["a"] }, to: {} },
                        { name: "Bad", to: { methods: ["GET"] } },
                        { from: { namespaces: ["a"] }, selector: {} },
                    ],
                },
                { name: "sample" },
            ],
            errors: [
                `${N}[0].allow[0].from.principals[1]: trust domain "evil.example.com" is not the mesh's ("cluster.local"); use "cluster.local", or list "evil.example.com" in \`${S}.trustDomainAliases\` if it is an alias of the mesh's`,
                `${N}[0].allow[0].from.principals[2]: "spiffe://cluster.local/ns/a/sa/web" has the spiffe:// scheme, which Istio's principals omit; write "cluster.local/ns/a/sa/web"`,
                `${N}[0].allow[0].from.principals[3]: namespace "b" is not an application namespace of the mesh; did you mean \`a\`? (add it to \`${N}\` first)`,
                `${N}[0].allow[0].from.principals[4]: "a/web" is not a principal <trustDomain>/ns/<namespace>/sa/<serviceAccount>, e.g. "cluster.local/ns/sample/sa/sleep"`,
                `${N}[0].allow[0].from.serviceAccounts[0]: namespace "sampel" is not an application namespace of the mesh; did you mean \`sample\`? (add it to \`${N}\` first)`,
                `${N}[0].allow[0].from.serviceAccounts[1]: "sleep" is not <namespace>/<serviceAccount>, e.g. "sample/sleep"`,
                `${N}[0].allow[0].from.namespaces[0]: namespace "kube-system" is not an application namespace of the mesh; namespaces it may name are: a, sample, istio-system (add it to \`${N}\` first)`,
                `${N}[0].allow[0].to.methods[0]: "get" is not an HTTP method; did you mean \`GET\`?`,
                `${N}[0].allow[0].to.paths[0]: "api" is not a path; start it with "/"`,
                `${N}[0].allow[0].to.ports[0]: must be a port number from 1 to 65535, got 0`,
                `${N}[0].allow[0].to.ports[1]: must be a port number from 1 to 65535, got "80"`,
                `${N}[0].allow[1].name: "r1" is already used by allow[0]; rule names are unique`,
                `${N}[0].allow[1].from: names nobody; give \`principals\`, \`serviceAccounts\` or \`namespaces\``,
                `${N}[0].allow[2].name: "allow-nothing" is the name of the deny-by-default policy; pick another`,
                `${N}[0].allow[2].to: is empty; give \`methods\`, \`paths\` or \`ports\`, or omit \`to\` to admit any request`,
                `${N}[0].allow[3].name: "Bad" is not a DNS-1123 label (lower-case letters, digits and '-')`,
                `${N}[0].allow[3].from: required; say who may call: \`principals\`, \`serviceAccounts\` (<namespace>/<name>) or \`namespaces\``,
                `${N}[0].allow[4].name: required; name the rule (it becomes the AuthorizationPolicy's name)`,
                `${N}[0].allow[4].selector: is empty; give workload labels such as \`app: helloworld\`, or omit it`,
            ],
        },
        {
            name: "allowNothing contradicting denyByDefault: false or allow rules",
            namespaces: [
                { name: "a", allowNothing: true, denyByDefault: false },
                { name: "b", allowNothing: true, allow: [{ name: "r", from: { namespaces: ["a"] } }] },
                { name: "c", allowNothing: "yes" },
            ],
            errors: [
                `${N}[0].allowNothing: contradicts \`denyByDefault: false\`; remove one of them`,
                `${N}[1].allowNothing: says the namespace admits nothing, but it has \`allow\` rules; remove \`allowNothing\` or the rules`,
                `${N}[2].allowNothing: must be true or false, got "yes"`,
            ],
        },
    ];
    for (const row of refused) {
        it(`refuses ${row.name}, every problem with its path`, () => {
            const r = validateSecurity(row.namespaces, row.security, {
                ...ctx,
                ...(row.revision ? { istio: { version: "1.30.3", revision: row.revision } } : {}),
            });
            assert.deepEqual(errors(r), row.errors);
        });
    }

    it("accepts a principal in an alias trust domain only once the alias is configured", () => {
        const ns = [{ name: "a", allow: [{ name: "r", from: { principals: ["old.io/ns/a/sa/x"] } }] }];
        assert.equal(errors(validateSecurity(ns, undefined, ctx)).length, 1);
        accepted(validateSecurity(ns, { trustDomainAliases: ["old.io"] }, ctx));
    });
});

describe("validateTopology with namespaces and security", () => {
    const clusters = () => [primary("c1", "n1"), remote("c2", "c1", "n2")];

    it("reports security problems together with the topology's, and refuses the whole config", () => {
        const result = validateTopology({
            ...rawConfig(mesh({ meshId: "Bad" }), clusters()),
            namespaces: [{ name: "kube-public" }],
            security: { mtls: "OFF" },
        });
        assert.deepEqual(result.ok ? [] : result.errors, [
            `istio-multicluster:mesh.meshId: "Bad" is not a DNS-1123 label (lower-case letters, digits and '-', starting and ending with a letter or digit)`,
            `${S}.mtls: "OFF" is not one of: STRICT, PERMISSIVE; set STRICT or PERMISSIVE`,
            `${N}[0].name: "kube-public" is reserved by Kubernetes for its own system; list only application namespaces`,
        ]);
    });

    it("checks principals against the mesh's own trust domain", () => {
        const result = validateTopology({
            ...rawConfig(mesh({ trustDomain: "prod.example.com" }), clusters()),
            namespaces: [
                { name: "a", allow: [{ name: "r", from: { principals: ["cluster.local/ns/a/sa/x"] } }] },
            ],
        });
        assert.deepEqual(result.ok ? [] : result.errors, [
            `${N}[0].allow[0].from.principals[0]: trust domain "cluster.local" is not the mesh's ("prod.example.com"); use "prod.example.com", or list "cluster.local" in \`${S}.trustDomainAliases\` if it is an alias of the mesh's`,
        ]);
    });

    it("puts namespaces and security in the topology, and aliases on the mesh for istiod", () => {
        const result = validateTopology({
            ...rawConfig(mesh(), clusters()),
            namespaces: [sample()],
            security: { trustDomainAliases: ["old.io"] },
        });
        assert.ok(result.ok);
        assert.deepEqual(result.topology.security, { mtls: "STRICT", trustDomainAliases: ["old.io"] });
        assert.deepEqual(result.topology.mesh.trustDomainAliases, ["old.io"]);
        assert.deepEqual(
            result.topology.namespaces.map((n) => n.name),
            ["sample"],
        );
        const without = validateTopology(rawConfig(mesh(), clusters()));
        assert.ok(without.ok);
        assert.equal("trustDomainAliases" in without.topology.mesh, false);
        assert.deepEqual(without.topology.namespaces, []);
    });
});

function topology(
    clusters: Record<string, unknown>[],
    namespaces: unknown,
    security?: unknown,
    meshExtra = {},
) {
    const result = validateTopology({ ...rawConfig(mesh(meshExtra), clusters), namespaces, security });
    assert.ok(result.ok, result.ok ? "" : result.errors.join("\n"));
    return result.topology;
}

const helloworldPolicy = {
    apiVersion: "security.istio.io/v1",
    kind: "AuthorizationPolicy",
    metadata: { name: "helloworld-from-sleep", namespace: "sample" },
    spec: {
        selector: { matchLabels: { app: "helloworld" } },
        action: "ALLOW",
        rules: [
            {
                from: [{ source: { principals: ["cluster.local/ns/sample/sa/sleep"] } }],
                to: [{ operation: { methods: ["GET"] } }],
            },
        ],
    },
};
const strictMeshWide = {
    apiVersion: "security.istio.io/v1",
    kind: "PeerAuthentication",
    metadata: { name: "default", namespace: "istio-system" },
    spec: { mtls: { mode: "STRICT" } },
};
const allowNothingIn = (namespace: string, intended = false) => ({
    apiVersion: "security.istio.io/v1",
    kind: "AuthorizationPolicy",
    metadata: {
        name: "allow-nothing",
        namespace,
        ...(intended ? { annotations: { "istio-multicluster/allow-nothing": "true" } } : {}),
    },
    spec: {},
});

describe("securityPlan", () => {
    it("primary-remote: the namespace in both clusters, the objects in the primary only (the dev sample)", () => {
        const t = topology([primary("c1", "n1"), remote("c2", "c1", "n2")], [sample()]);
        const plan = securityPlan(t);
        const namespace = { name: "sample", labels: { "istio-injection": "enabled" } };
        assert.deepEqual(
            plan.map((c) => ({ cluster: c.cluster.name, namespaces: c.namespaces, objects: c.objects })),
            [
                {
                    cluster: "c1",
                    namespaces: [namespace],
                    objects: [strictMeshWide, allowNothingIn("sample"), helloworldPolicy],
                },
                { cluster: "c2", namespaces: [namespace], objects: [] },
            ],
        );
    });

    it("multi-primary: every primary gets the very same objects (one list, by construction)", () => {
        const t = topology([primary("c1", "n1"), primary("c2", "n2"), primary("c3", "n3")], [sample()]);
        const plan = securityPlan(t);
        assert.deepEqual(plan[0]!.objects, [strictMeshWide, allowNothingIn("sample"), helloworldPolicy]);
        assert.ok(plan.every((c) => c.objects === plan[0]!.objects));
    });

    it("mixed: primaries get objects, remotes only namespaces; revisioned injection label; overrides", () => {
        const t = topology(
            [primary("p1", "n1"), primary("p2", "n2"), remote("r1", "p1", "n1"), remote("r2", "p2", "n2")],
            [
                {
                    name: "legacy",
                    mtls: "PERMISSIVE",
                    labels: { team: "old" },
                    annotations: { note: "moving" },
                },
                { name: "vault", allowNothing: true },
                {
                    name: "web",
                    allow: [
                        {
                            name: "from-legacy",
                            from: { namespaces: ["legacy"], serviceAccounts: ["vault/reader"] },
                            to: { paths: ["/"], ports: [8080, 9090] },
                        },
                    ],
                },
            ],
            { mtls: "PERMISSIVE" },
            { istio: { version: "1.30.3", revision: "1-30-3" } },
        );
        const plan = securityPlan(t);
        assert.deepEqual(
            plan.map((c) => [c.cluster.name, c.namespaces.map((n) => n.name), c.objects.length]),
            [
                ["p1", ["legacy", "vault", "web"], 4],
                ["p2", ["legacy", "vault", "web"], 4],
                ["r1", ["legacy", "vault", "web"], 0],
                ["r2", ["legacy", "vault", "web"], 0],
            ],
        );
        assert.deepEqual(plan[2]!.namespaces[0], {
            name: "legacy",
            labels: { team: "old", "istio.io/rev": "1-30-3" },
            annotations: { note: "moving" },
        });
        assert.deepEqual(plan[0]!.objects, [
            { ...strictMeshWide, spec: { mtls: { mode: "PERMISSIVE" } } },
            {
                ...strictMeshWide,
                metadata: { name: "default", namespace: "legacy" },
                spec: { mtls: { mode: "PERMISSIVE" } },
            },
            allowNothingIn("vault", true),
            {
                apiVersion: "security.istio.io/v1",
                kind: "AuthorizationPolicy",
                metadata: { name: "from-legacy", namespace: "web" },
                spec: {
                    action: "ALLOW",
                    rules: [
                        {
                            // Any listed principal or namespace: separate sources, which Istio ORs.
                            from: [
                                { source: { principals: ["cluster.local/ns/vault/sa/reader"] } },
                                { source: { namespaces: ["legacy"] } },
                            ],
                            to: [{ operation: { paths: ["/"], ports: ["8080", "9090"] } }],
                        },
                    ],
                },
            },
        ]);
        assert.deepEqual(plan[1]!.objects, plan[0]!.objects);
    });

    it("a cluster added later gets every namespace, and the primaries' objects do not change", () => {
        const before = topology([primary("c1", "n1")], [sample(), { name: "shop" }]);
        const after = topology(
            [primary("c1", "n1"), primary("c2", "n2"), remote("c3", "c1", "n1")],
            [sample(), { name: "shop" }],
        );
        const p = securityPlan(after);
        for (const c of p)
            assert.deepEqual(
                c.namespaces.map((n) => n.name),
                ["sample", "shop"],
            );
        assert.deepEqual(p[1]!.objects, securityPlan(before)[0]!.objects);
    });

    it("no namespaces: only the mesh-wide PeerAuthentication, never an authorization policy in istio-system", () => {
        const t: Topology = topology([primary("c1")], undefined);
        assert.deepEqual(securityObjects(t), [strictMeshWide]);
    });

    it("namespaceMetadata adds the install's injection label and omits empty annotations", () => {
        const ns = accepted(validateSecurity([{ name: "a", labels: { x: "y" } }], undefined, ctx))
            .namespaces[0]!;
        assert.deepEqual(namespaceMetadata(ns, undefined), {
            name: "a",
            labels: { x: "y", "istio-injection": "enabled" },
        });
        assert.deepEqual(namespaceMetadata(ns, "canary"), {
            name: "a",
            labels: { x: "y", "istio.io/rev": "canary" },
        });
    });
});

describe("objectResourceName", () => {
    it("never gives two different (cluster, namespace, name) the same name (exhaustive over tricky labels)", () => {
        // Labels whose dashes could shift between parts if the parts were joined with "-".
        const labels = ["a", "b", "a-b", "b-a", "a-b-a", "ab", "a-a"];
        const triples: [string, string, string | undefined][] = labels.flatMap((c) =>
            labels.flatMap((n) =>
                [undefined, ...labels].map((x): [string, string, string | undefined] => [c, n, x]),
            ),
        );
        const seen = new Map<string, string>();
        for (const t of triples) {
            const name = objectResourceName(t[0], t[1], t[2]);
            const key = JSON.stringify(t);
            assert.equal(seen.get(name) ?? key, key, `${name} from ${key} and ${seen.get(name)}`);
            seen.set(name, key);
        }
        assert.equal(seen.size, triples.length);
    });
    it("reads as the object's identity", () => {
        assert.equal(objectResourceName("c1", "sample"), "c1/sample");
        assert.equal(objectResourceName("c1", "sample", "allow-nothing"), "c1/sample/allow-nothing");
        // Dashes cannot shift between parts the way `${cluster}-${namespace}` would let them.
        assert.notEqual(objectResourceName("a-b", "c"), objectResourceName("a", "b-c"));
    });
});

describe("the pack and the program agree", () => {
    it("on the allow-nothing annotation", () => {
        assert.equal(packAnnotation, allowNothingAnnotation);
        assert.equal(securityPolicies.length, 6);
    });
});

describe("validateSecurity: nothing echoed that should not be", () => {
    it("refuses a private key in a namespace annotation without showing it, and escapes a forged key", () => {
        // A real key made at test time (test/support/testPki.ts): no key material is committed.
        const key = labelledKey("ANNOTATED");
        const result = validateSecurity(
            [{ name: "sample", annotations: { "example.com/key": key, "x\ny": "v" } }],
            undefined,
            { trustDomain: "cluster.local" },
        );
        assert.deepEqual(result.ok ? [] : result.errors, [
            'istio-multicluster:namespaces[0].annotations["example.com/key"]: holds a private key (not shown); key material never goes in an annotation',
            `istio-multicluster:namespaces[0].annotations["x\\u000ay"]: "x\\u000ay" is not a Kubernetes annotation key ([prefix/]name, name at most 63 letters, digits, '-', '_' or '.')`,
        ]);
    });
});
