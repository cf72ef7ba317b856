/**
 * What breaks or degrades a real cluster although the offline plan looked fine (issue 7), at the level of the
 * plan: webhooks by URL for a hostname address, reader permissions before remote secrets, the `default`
 * revision tag, externalIPs only for NodePort. test/conformance/rendered.test.ts checks the same on the
 * objects Helm renders from these values.
 */
import { strict as assert } from "node:assert";
import { ApplyOutputs, Plan, PlannedResource, plainInputs, plan } from "../tools/planner";
import { mesh, primary, rawConfig, remote, stackConfig } from "./support/fixtures";
import { validateTopology } from "../stacks/validate";

const release = "kubernetes:helm.sh/v3:Release";

function get(p: Plan, type: string, name: string): PlannedResource {
    const r = p.resources.find((x) => x.type === type && x.name === name);
    assert.ok(r, `no ${type} ${name}`);
    return r;
}
const values = (p: Plan, name: string) =>
    plainInputs(get(p, release, name)).values as Record<string, unknown>;
const at = (o: unknown, ...keys: string[]): unknown =>
    keys.reduce<unknown>((x, k) => (x as Record<string, unknown> | undefined)?.[k], o);

/** True when `from` waits for `to`, directly or through other resources. */
function reaches(p: Plan, from: PlannedResource, to: PlannedResource): boolean {
    const byUrn = new Map(p.resources.map((x) => [x.urn, x]));
    const seen = new Set<string>();
    const stack = [...from.dependsOn];
    while (stack.length) {
        const u = stack.pop()!;
        if (u === to.urn) return true;
        if (seen.has(u)) continue;
        seen.add(u);
        stack.push(...(byUrn.get(u)?.dependsOn ?? []));
    }
    return false;
}

/** The clusters played for an update, each load balancer reporting `ingress`. */
const playing =
    (ingress: { ip?: string; hostname?: string }): ApplyOutputs =>
    (args) => {
        const inputs = args.inputs as Record<string, unknown>;
        if (args.type === "kubernetes:core/v1:Secret" && args.name.endsWith("-reader-token")) {
            return {
                data: {
                    token: Buffer.from("t").toString("base64"),
                    "ca.crt": Buffer.from("c").toString("base64"),
                },
            };
        }
        if (args.type.startsWith("tls:index/") && args.type.endsWith("Cert"))
            return { certPem: "certificate\n" };
        if (args.type === release) {
            return { status: { name: inputs.name, namespace: inputs.namespace, status: "deployed" } };
        }
        if (args.type === "kubernetes:core/v1:Service")
            return { status: { loadBalancer: { ingress: [ingress] } } };
        return undefined;
    };

const revision = { istio: { version: "1.30.3", revision: "1-30-3" } };

describe("a hostname east-west address: the remote's webhooks by URL on the gateway's 15017", () => {
    let p: Plan;
    before(async () => {
        p = await plan(
            stackConfig(mesh(revision), [
                primary("c1", "n1", { eastWest: { address: "ew.c1.example.com" } }),
                remote("c2", "c1", "n2"),
            ]),
        );
    });

    it("gives the remote's istiod the injection and validation URLs, and keeps the address for XDS", () => {
        const v = values(p, "c2-istiod");
        assert.deepEqual(v.istiodRemote, {
            injectionPath: "/inject/cluster/c2/net/n2",
            injectionURL: "https://ew.c1.example.com:15017/inject/cluster/c2/net/n2",
        });
        assert.deepEqual(v.base, { validationURL: "https://ew.c1.example.com:15017/validate" });
        assert.equal(at(v, "global", "remotePilotAddress"), "ew.c1.example.com");
    });

    it("gives the remote's base chart the validation URL (its default validator)", () => {
        assert.deepEqual(values(p, "c2-base"), {
            profile: "remote",
            defaultRevision: "1-30-3",
            base: { validationURL: "https://ew.c1.example.com:15017/validate" },
        });
    });

    it("puts the hostname on istiod's serving certificate, which the API server checks", () => {
        assert.deepEqual(values(p, "c1-istiod").env, { ISTIOD_CUSTOM_HOST: "ew.c1.example.com" });
    });

    it("routes the webhook port by that SNI to the revision's istiod", () => {
        const vs = plainInputs(get(p, "kubernetes:networking.istio.io/v1:VirtualService", "c1-istiod-vs"));
        const tls = at(vs, "spec", "tls") as { match: { port: number; sniHosts: string[] }[] }[];
        assert.deepEqual(
            tls.map((t) => t.match[0]),
            [
                {
                    port: 15012,
                    sniHosts: [
                        "istiod-1-30-3.istio-system.svc",
                        "istiod-1-30-3.istio-system.svc.cluster.local",
                    ],
                },
                {
                    port: 15017,
                    sniHosts: [
                        "istiod-1-30-3.istio-system.svc",
                        "istiod-1-30-3.istio-system.svc.cluster.local",
                        "ew.c1.example.com",
                    ],
                },
            ],
        );
    });

    it("a fixed IP keeps the Service and EndpointSlice: no URL, no extra certificate name", async () => {
        const ip = await plan(
            stackConfig(mesh(revision), [
                primary("c1", "n1", { eastWest: { address: "198.51.100.7" } }),
                remote("c2", "c1", "n2"),
            ]),
        );
        assert.deepEqual(values(ip, "c2-istiod").istiodRemote, {
            injectionPath: "/inject/cluster/c2/net/n2",
        });
        assert.equal(values(ip, "c2-istiod").base, undefined);
        assert.deepEqual(values(ip, "c2-base"), { profile: "remote", defaultRevision: "1-30-3" });
        assert.equal(values(ip, "c1-istiod").env, undefined);
    });

    it("a load balancer's IP, known on update: no URL", async () => {
        const up = await plan(stackConfig(mesh(), [primary("c1", "n1"), remote("c2", "c1", "n2")]), {
            preview: false,
            applyOutputs: playing({ ip: "203.0.113.5" }),
        });
        assert.deepEqual(values(up, "c2-istiod").istiodRemote, {
            injectionPath: "/inject/cluster/c2/net/n2",
        });
        assert.equal(values(up, "c2-istiod").base, undefined);
        assert.deepEqual(values(up, "c2-base"), { profile: "remote" });
    });

    describe("a load balancer that reports a hostname for istiod's remotes: linked in the same update", () => {
        const host = "c1-0123456789.elb.us-east-1.amazonaws.com";
        const patchType = "kubernetes:apps/v1:DeploymentPatch";
        const vsType = "kubernetes:networking.istio.io/v1:VirtualService";
        let up: Plan;
        before(async () => {
            up = await plan(stackConfig(mesh(revision), [primary("c1", "n1"), remote("c2", "c1", "n2")]), {
                preview: false,
                applyOutputs: playing({ hostname: host }),
            });
        });

        it("puts the reported name on istiod's certificate: a ConfigMap, loaded by a patch of its Deployment", () => {
            const config = get(up, "kubernetes:core/v1:ConfigMap", "c1-reported-host");
            assert.deepEqual(plainInputs(config), {
                apiVersion: "v1",
                kind: "ConfigMap",
                metadata: { name: "istiod-reported-host", namespace: "istio-system" },
                data: { ISTIOD_CUSTOM_HOST: host },
            });
            const patch = get(up, patchType, "c1-istiod-reported-host");
            assert.deepEqual(plainInputs(patch), {
                apiVersion: "apps/v1",
                kind: "Deployment",
                metadata: { name: "istiod-1-30-3", namespace: "istio-system" },
                spec: {
                    template: {
                        metadata: { annotations: { "istio-multicluster/reported-host": host } },
                        spec: {
                            containers: [
                                {
                                    name: "discovery",
                                    envFrom: [{ configMapRef: { name: "istiod-reported-host" } }],
                                },
                            ],
                        },
                    },
                },
            });
            assert.ok(patch.dependsOn.includes(get(up, release, "c1-istiod").urn));
            assert.ok(patch.dependsOn.includes(config.urn));
            assert.equal(patch.cluster, "c1");
            assert.equal(values(up, "c1-istiod").env, undefined, "the release itself is unchanged");
        });

        it("routes webhook calls at that name to the serving revision's istiod", () => {
            const vs = plainInputs(get(up, vsType, "c1-istiod-vs-reported-host"));
            assert.deepEqual(at(vs, "metadata"), {
                name: "istiod-vs-reported-host",
                namespace: "istio-system",
            });
            assert.deepEqual(at(vs, "spec"), {
                hosts: ["*"],
                gateways: ["istiod-gateway"],
                tls: [
                    {
                        match: [{ port: 15017, sniHosts: [host] }],
                        route: [
                            {
                                destination: {
                                    host: "istiod-1-30-3.istio-system.svc.cluster.local",
                                    port: { number: 443 },
                                },
                            },
                        ],
                    },
                ],
            });
        });

        it("installs the remote with the webhooks by URL at that name, after the patch and the route", () => {
            const remote = get(up, release, "c2-istiod");
            for (const [type, name] of [
                [patchType, "c1-istiod-reported-host"],
                [vsType, "c1-istiod-vs-reported-host"],
            ] as const) {
                assert.ok(remote.dependsOn.includes(get(up, type, name).urn), name);
            }
            assert.equal(
                at(values(up, "c2-istiod"), "istiodRemote", "injectionURL"),
                `https://${host}:15017/inject/cluster/c2/net/n2`,
            );
            assert.equal(at(up.outputs, "clusters", "c1", "eastWestAddress"), host);
        });

        it("a reported IP, or a configured address, adds neither", async () => {
            const ip = await plan(
                stackConfig(mesh(revision), [primary("c1", "n1"), remote("c2", "c1", "n2")]),
                {
                    preview: false,
                    applyOutputs: playing({ ip: "203.0.113.5" }),
                },
            );
            const fixed = await plan(
                stackConfig(mesh(revision), [
                    primary("c1", "n1", { eastWest: { address: host } }),
                    remote("c2", "c1", "n2"),
                ]),
                { preview: false, applyOutputs: playing({ hostname: host }) },
            );
            for (const p of [ip, fixed]) {
                assert.deepEqual(
                    p.resources.filter((r) => r.name.endsWith("reported-host")),
                    [],
                );
            }
        });

        it("every revision's istiod gets the name; without a revision name the one route already takes it", async () => {
            const two = await plan(
                stackConfig(
                    mesh({
                        istio: {
                            revisions: [
                                { name: "1-29-6", version: "1.29.6" },
                                { name: "1-30-3", version: "1.30.3" },
                            ],
                            tags: { default: "1-29-6" },
                        },
                    }),
                    [primary("c1", "n1"), remote("c2", "c1", "n2")],
                ),
                { preview: false, applyOutputs: playing({ hostname: host }) },
            );
            assert.deepEqual(
                two.resources
                    .filter((r) => r.type === patchType)
                    .map((r) => at(plainInputs(r), "metadata", "name"))
                    .sort(),
                ["istiod-1-29-6", "istiod-1-30-3"],
            );
            const route = plainInputs(get(two, vsType, "c1-istiod-vs-reported-host"));
            assert.equal(
                at(route, "spec", "tls", "0", "route", "0", "destination", "host"),
                "istiod-1-29-6.istio-system.svc.cluster.local",
            );
            const plain = await plan(
                stackConfig(mesh({ istio: { version: "1.30.3" } }), [
                    primary("c1", "n1"),
                    remote("c2", "c1", "n2"),
                ]),
                { preview: false, applyOutputs: playing({ hostname: host }) },
            );
            assert.ok(plain.resources.some((r) => r.type === patchType));
            assert.ok(!plain.resources.some((r) => r.type === vsType && r.name.endsWith("reported-host")));
        });
    });

    it("a hostname from the load balancer of a gateway that serves no remote is fine", async () => {
        const host = "lb.example.com";
        const up = await plan(stackConfig(mesh(), [primary("c1", "n1"), primary("c2", "n2")]), {
            preview: false,
            applyOutputs: playing({ hostname: host }),
        });
        assert.equal(at(up.outputs, "clusters", "c1", "eastWestAddress"), host);
    });
});

describe("reader permissions before remote secrets", () => {
    it("the reader token (and so each remote secret) waits for the source's istiod release, in either role", async () => {
        const p = await plan(
            stackConfig(mesh(), [primary("c1", "n1"), primary("c2", "n2"), remote("c3", "c1", "n3")]),
        );
        for (const source of ["c1", "c2", "c3"]) {
            const token = get(p, "kubernetes:core/v1:Secret", `${source}-reader-token`);
            assert.ok(token.dependsOn.includes(get(p, release, `${source}-istiod`).urn), source);
        }
        for (const [source, reader] of [
            ["c3", "c1"],
            ["c3", "c2"],
            ["c1", "c2"],
            ["c2", "c1"],
        ] as const) {
            const secret = get(p, "kubernetes:core/v1:Secret", `${source}/in/${reader}`);
            assert.ok(reaches(p, secret, get(p, release, `${source}-istiod`)), `${source}/in/${reader}`);
        }
    });
});

describe("the default revision tag", () => {
    const topology = (istio: Record<string, unknown>) =>
        stackConfig(mesh({ istio: { version: "1.30.3", ...istio } }), [
            primary("c1", "n1"),
            remote("c2", "c1", "n2"),
        ]);

    it("is rendered by every istiod release (primary and remote) when a revision is set", async () => {
        const p = await plan(topology({ revision: "1-30-3" }));
        assert.deepEqual(values(p, "c1-istiod").revisionTags, ["default"]);
        assert.deepEqual(values(p, "c2-istiod").revisionTags, ["default"]);
    });

    it("is left to the user with `defaultTag: false`, and not needed without a revision", async () => {
        for (const istio of [{ revision: "1-30-3", defaultTag: false }, {}]) {
            const p = await plan(topology(istio));
            assert.equal(values(p, "c1-istiod").revisionTags, undefined);
            assert.equal(values(p, "c2-istiod").revisionTags, undefined);
        }
    });

    it("validation: `defaultTag` takes a boolean, and `true` only with a revision", () => {
        const errors = (istio: Record<string, unknown>) => {
            const r = validateTopology(
                rawConfig(mesh({ istio: { version: "1.30.3", ...istio } }), [primary("c1", "n1")]),
            );
            return r.ok ? [] : r.errors;
        };
        assert.deepEqual(errors({ revision: "canary", defaultTag: true }), []);
        assert.deepEqual(errors({ defaultTag: false }), []);
        assert.deepEqual(errors({ defaultTag: true }), [
            "istio-multicluster:mesh.istio.defaultTag: only with `revision`: without one the install already is " +
                "the default; remove `defaultTag`",
        ]);
        assert.deepEqual(errors({ revision: "canary", defaultTag: "yes" }), [
            'istio-multicluster:mesh.istio.defaultTag: must be true or false, got "yes"',
        ]);
    });
});

describe("externalIPs only where they are the mechanism", () => {
    it("a NodePort at a fixed IP gets it; a load balancer at a fixed IP does not", async () => {
        const p = await plan(
            stackConfig(mesh(), [
                primary("c1", "n1", { eastWest: { address: "198.51.100.7" } }),
                primary("c2", "n2", { eastWest: { serviceType: "NodePort", address: "198.51.100.8" } }),
            ]),
        );
        assert.equal(at(values(p, "c1-eastwestgateway"), "service", "externalIPs"), undefined);
        assert.deepEqual(at(values(p, "c2-eastwestgateway"), "service", "externalIPs"), ["198.51.100.8"]);
    });

    it("mesh-wide source ranges restrict load balancers; a NodePort must opt out (Kubernetes refuses them)", async () => {
        const config = (c2: Record<string, unknown>) =>
            stackConfig(mesh({ eastWest: { sourceRanges: ["10.0.0.0/8"] } }), [
                primary("c1", "n1"),
                primary("c2", "n2", {
                    eastWest: { serviceType: "NodePort", address: "198.51.100.8", ...c2 },
                }),
            ]);
        // Inheriting them silently would leave the NodePort open where the mesh asked for a restriction (issue 9).
        await assert.rejects(plan(config({})), {
            problems: [
                "istio-multicluster:clusters[1].eastWest.serviceType: NodePort cannot be combined with the " +
                    "sourceRanges set in `istio-multicluster:mesh.eastWest.sourceRanges`: Kubernetes forbids " +
                    "loadBalancerSourceRanges on a NodePort Service; set `sourceRanges: []` on this cluster, or " +
                    "use serviceType LoadBalancer",
            ],
        });
        const p = await plan(config({ sourceRanges: [] }));
        assert.deepEqual(at(values(p, "c1-eastwestgateway"), "service", "loadBalancerSourceRanges"), [
            "10.0.0.0/8",
        ]);
        assert.equal(at(values(p, "c2-eastwestgateway"), "service", "loadBalancerSourceRanges"), undefined);
    });
});
