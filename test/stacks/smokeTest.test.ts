/**
 * The smoke test: its setting (every problem by config path), its exact objects, and how the program creates
 * them: which cluster's provider, under which component, waiting for exactly what.
 */
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { readSmokeTest, smokeImages, smokeJobName, smokeObjects, smokeScript } from "../../stacks/smokeTest";
import { validateTopology } from "../../stacks/validate";
import { loadStackFile, plainInputs, plan, Plan, PlannedResource } from "../../tools/planner";
import { mesh, primary, rawConfig, remote, stackConfig } from "../support/fixtures";

const key = "istio-multicluster:smokeTest";
const clusters = ["cluster1", "cluster2", "cluster3"];

describe("smoke test", () => {
    describe("readSmokeTest", () => {
        it("is off when absent or not enabled, and applies the defaults when enabled", () => {
            assert.deepEqual(readSmokeTest(undefined, clusters), { errors: [] });
            assert.deepEqual(readSmokeTest({ enabled: false }, clusters), { errors: [] });
            assert.deepEqual(readSmokeTest({ enabled: true }, clusters), {
                settings: { namespace: "smoke-test", v1: "cluster1", v2: "cluster2", timeoutMinutes: 10 },
                errors: [],
            });
            assert.deepEqual(
                readSmokeTest(
                    { enabled: true, namespace: "demo", v1: "cluster3", timeoutMinutes: 3 },
                    clusters,
                ).settings,
                { namespace: "demo", v1: "cluster3", v2: "cluster1", timeoutMinutes: 3 },
            );
        });

        const refused: [string, unknown, string[], string[]?][] = [
            ["not a map", "yes", [`${key}: must be a map such as \`{ enabled: true }\`, got "yes"`]],
            [
                "an unknown key and a non-boolean enabled",
                { enabled: "true", namesapce: "x" },
                [
                    `${key}.namesapce: unknown key; allowed keys are: enabled, namespace, v1, v2, timeoutMinutes`,
                    `${key}.enabled: must be true or false, got "true"`,
                ],
            ],
            [
                "a namespace that is not a DNS label",
                { enabled: true, namespace: "Smoke_Test" },
                [
                    `${key}.namespace: "Smoke_Test" is not a DNS-1123 label; name a namespace such as smoke-test`,
                ],
            ],
            [
                "a system namespace",
                { enabled: true, namespace: "istio-system" },
                [`${key}.namespace: "istio-system" is a system namespace; name one of its own`],
            ],
            [
                "a cluster that is not in the mesh",
                { enabled: true, v2: "cluster9" },
                [
                    `${key}.v2: "cluster9" is not a cluster of the mesh; clusters are: cluster1, cluster2, cluster3`,
                ],
            ],
            [
                "v1 and v2 in the same cluster",
                { enabled: true, v1: "cluster2", v2: "cluster2" },
                [
                    `${key}.v2: "cluster2" is also \`v1\`; put v2 in another cluster, or the test proves nothing`,
                ],
            ],
            [
                "a mesh of one cluster",
                { enabled: true },
                [`${key}: the smoke test needs two clusters (v1 in one, v2 in another); the mesh has 1`],
                ["cluster1"],
            ],
            [
                "a timeout that is not a whole number of minutes",
                { enabled: true, timeoutMinutes: 0.5 },
                [`${key}.timeoutMinutes: must be a whole number from 1 to 1440 (a day), got 0.5`],
            ],
        ];
        for (const [title, raw, errors, names] of refused) {
            it(`refuses ${title}`, () => {
                assert.deepEqual(readSmokeTest(raw, names ?? clusters), { errors });
            });
        }

        it("refuses a namespace that is also an application namespace (both would create it)", () => {
            const result = validateTopology({
                ...rawConfig(mesh(), [primary("c1", "n1"), remote("c2", "c1", "n2")]),
                namespaces: [{ name: "sample" }],
                smokeTest: { enabled: true, namespace: "sample" },
            });
            assert.deepEqual(result, {
                ok: false,
                errors: [
                    `${key}.namespace: "sample" is also in istio-multicluster:namespaces; the smoke test makes a ` +
                        "namespace of its own: give it another name",
                ],
            });
        });

        it("reports its problems with the rest of the config, and the topology carries the settings", () => {
            const bad = validateTopology({
                ...rawConfig(mesh(), [primary("c1", "n1"), remote("c2", "c1", "n2")]),
                smokeTest: { enabled: true, v2: "c9" },
            });
            assert.deepEqual(bad, {
                ok: false,
                errors: [`${key}.v2: "c9" is not a cluster of the mesh; clusters are: c1, c2`],
            });
            const good = validateTopology({
                ...rawConfig(mesh(), [primary("c1", "n1"), remote("c2", "c1", "n2")]),
                smokeTest: { enabled: true },
            });
            assert.ok(good.ok);
            assert.deepEqual(good.topology.smokeTest, {
                namespace: "smoke-test",
                v1: "c1",
                v2: "c2",
                timeoutMinutes: 10,
            });
        });
    });

    describe("smokeObjects", () => {
        const settings = { namespace: "smoke-test", v1: "cluster1", v2: "cluster2", timeoutMinutes: 10 };

        it("in the v1 cluster: the namespace, the Service, helloworld-v1, the client and the Job, exactly", () => {
            assert.deepEqual(smokeObjects(settings, "cluster1", undefined, "dev"), {
                namespace: {
                    apiVersion: "v1",
                    kind: "Namespace",
                    metadata: { name: "smoke-test", labels: { "istio-injection": "enabled" } },
                },
                service: {
                    apiVersion: "v1",
                    kind: "Service",
                    metadata: {
                        name: "helloworld",
                        namespace: "smoke-test",
                        labels: { app: "helloworld", service: "helloworld" },
                    },
                    spec: { ports: [{ port: 5000, name: "http" }], selector: { app: "helloworld" } },
                },
                helloworld: {
                    apiVersion: "apps/v1",
                    kind: "Deployment",
                    metadata: {
                        name: "helloworld-v1",
                        namespace: "smoke-test",
                        labels: { app: "helloworld", version: "v1" },
                    },
                    spec: {
                        replicas: 1,
                        selector: { matchLabels: { app: "helloworld", version: "v1" } },
                        template: {
                            metadata: { labels: { app: "helloworld", version: "v1" } },
                            spec: {
                                containers: [
                                    {
                                        name: "helloworld",
                                        image: "registry.istio.io/release/examples-helloworld-v1:1.0",
                                        resources: { requests: { cpu: "100m" } },
                                        imagePullPolicy: "IfNotPresent",
                                        ports: [{ containerPort: 5000 }],
                                    },
                                ],
                            },
                        },
                    },
                },
                client: {
                    apiVersion: "apps/v1",
                    kind: "Deployment",
                    metadata: { name: "curl", namespace: "smoke-test", labels: { app: "curl" } },
                    spec: {
                        replicas: 1,
                        selector: { matchLabels: { app: "curl" } },
                        template: {
                            metadata: { labels: { app: "curl" } },
                            spec: {
                                terminationGracePeriodSeconds: 0,
                                containers: [
                                    {
                                        name: "curl",
                                        image: smokeImages.curl,
                                        command: ["/bin/sleep", "infinity"],
                                        imagePullPolicy: "IfNotPresent",
                                    },
                                ],
                            },
                        },
                    },
                },
                job: {
                    apiVersion: "batch/v1",
                    kind: "Job",
                    metadata: { name: smokeJobName, namespace: "smoke-test", labels: { app: "smoke-test" } },
                    spec: {
                        backoffLimit: 0,
                        activeDeadlineSeconds: 660,
                        template: {
                            metadata: {
                                labels: { app: "smoke-test" },
                                annotations: { "sidecar.istio.io/nativeSidecar": "true" },
                            },
                            spec: {
                                restartPolicy: "Never",
                                containers: [
                                    {
                                        name: "smoke-test",
                                        image: smokeImages.curl,
                                        command: [
                                            "/bin/sh",
                                            "-c",
                                            smokeScript("smoke-test", 600, {
                                                cluster: "cluster1",
                                                stack: "dev",
                                            }),
                                        ],
                                        imagePullPolicy: "IfNotPresent",
                                        terminationMessagePolicy: "FallbackToLogsOnError",
                                    },
                                ],
                            },
                        },
                    },
                },
            });
        });

        it("v2 runs helloworld-v2; a third cluster only the Service, client and Job; a revision labels by it", () => {
            const v2 = smokeObjects(settings, "cluster2", "1-30-3", "dev");
            assert.equal(v2.helloworld!.metadata.name, "helloworld-v2");
            assert.equal(
                (v2.helloworld!.spec as { template: { spec: { containers: { image: string }[] } } }).template
                    .spec.containers[0]!.image,
                "registry.istio.io/release/examples-helloworld-v2:1.0",
            );
            assert.deepEqual(v2.namespace.metadata.labels, { "istio.io/rev": "1-30-3" });
            assert.deepEqual(Object.keys(smokeObjects(settings, "cluster3", undefined, "dev")), [
                "namespace",
                "service",
                "client",
                "job",
            ]);
        });

        it("pins every image: curl by digest, helloworld by the tags of Istio 1.30.3's sample", () => {
            assert.match(smokeImages.curl, /^docker\.io\/curlimages\/curl:8\.16\.0@sha256:[0-9a-f]{64}$/);
            assert.match(smokeImages.helloworldV1, /:1\.0$/);
            assert.match(smokeImages.helloworldV2, /:1\.0$/);
        });

        describe("the Job's script, run by sh against a stand-in curl", () => {
            let bin: string;
            before(() => {
                bin = fs.mkdtempSync(path.join(os.tmpdir(), "smoke-script-"));
                // curl answers with the next line of $ANSWERS each call (the last one once they run out).
                fs.writeFileSync(
                    path.join(bin, "curl"),
                    '#!/bin/sh\nn=$(cat "$ANSWERS.n" 2>/dev/null || echo 0); n=$((n + 1)); echo "$n" > "$ANSWERS.n"\n' +
                        '[ "$n" -le "$(wc -l < "$ANSWERS")" ] || n=$(wc -l < "$ANSWERS"); sed -n "${n}p" "$ANSWERS"\n',
                    { mode: 0o755 },
                );
                fs.writeFileSync(path.join(bin, "sleep"), "#!/bin/sh\nexec /bin/sleep 0.05\n", {
                    mode: 0o755,
                });
            });
            after(() => fs.rmSync(bin, { recursive: true, force: true }));
            const runScript = (answers: string[], timeoutSeconds: number) => {
                const file = path.join(bin, `answers-${Math.random().toString(36).slice(2)}`);
                fs.writeFileSync(file, answers.join("\n") + "\n");
                return spawnSync(
                    "sh",
                    ["-c", smokeScript("smoke-test", timeoutSeconds, { cluster: "cluster1", stack: "dev" })],
                    {
                        encoding: "utf8",
                        env: { ...process.env, PATH: `${bin}:${process.env["PATH"]}`, ANSWERS: file },
                        timeout: 15_000,
                    },
                );
            };
            const v1 = "Hello version: v1, instance: helloworld-v1-6d8f7c9b5-x2x7q";
            const v2 = "Hello version: v2, instance: helloworld-v2-7b9c8d6f4-k4m2p";

            it("succeeds once it has seen both versions, whatever came between", () => {
                const r = runScript([v1, "", "upstream connect error", v1, v2], 10);
                assert.deepEqual(
                    [r.status, r.stdout, r.stderr],
                    [0, "saw v1 and v2 after 5 calls: cross-cluster routing works\n", ""],
                );
            });

            it("fails at its deadline when only one version answers, naming the cluster and the command to run", () => {
                const r = runScript([v1], 1);
                assert.equal(r.status, 1);
                assert.equal(r.stdout, "");
                assert.match(
                    r.stderr,
                    /^smoke test in cluster1: after \d+ calls saw v1=1 v2=0, so helloworld in the other cluster is not reached through the east-west gateways; run: npm run verify -- --stack dev\n$/,
                );
            });
        });
    });

    describe("in the program", () => {
        let p: Plan;
        before(async () => {
            p = await plan(loadStackFile("dev"));
        });
        const get = (name: string): PlannedResource => {
            const r = p.resources.find((x) => x.name === name);
            assert.ok(r, `no resource ${name}`);
            return r;
        };
        const names = (urns: readonly string[]) => urns.map((u) => u.slice(u.lastIndexOf("::") + 2)).sort();

        it("creates one SmokeTest component with each cluster's objects under it, through that cluster's provider", () => {
            const component = p.resources.filter((r) => r.type === "multicluster:verify:SmokeTest");
            assert.deepEqual(
                component.map((r) => r.name),
                ["smoke-test"],
            );
            const children = p.resources.filter((r) => r.parent === component[0]!.urn);
            assert.deepEqual(children.map((r) => `${r.cluster} ${r.type} ${r.name}`).sort(), [
                "cluster1 kubernetes:apps/v1:Deployment smoke-test-cluster1-curl",
                "cluster1 kubernetes:apps/v1:Deployment smoke-test-cluster1-helloworld-v1",
                "cluster1 kubernetes:batch/v1:Job smoke-test-cluster1-job",
                "cluster1 kubernetes:core/v1:Namespace smoke-test-cluster1-namespace",
                "cluster1 kubernetes:core/v1:Service smoke-test-cluster1-helloworld",
                "cluster2 kubernetes:apps/v1:Deployment smoke-test-cluster2-curl",
                "cluster2 kubernetes:apps/v1:Deployment smoke-test-cluster2-helloworld-v2",
                "cluster2 kubernetes:batch/v1:Job smoke-test-cluster2-job",
                "cluster2 kubernetes:core/v1:Namespace smoke-test-cluster2-namespace",
                "cluster2 kubernetes:core/v1:Service smoke-test-cluster2-helloworld",
            ]);
        });

        it("workloads wait for their namespace and the cluster's injection (a remote's also for its attachment)", () => {
            assert.deepEqual(names(get("smoke-test-cluster1-helloworld-v1").dependsOn), [
                "cluster1-istiod",
                "smoke-test-cluster1-namespace",
            ]);
            assert.deepEqual(names(get("smoke-test-cluster2-helloworld-v2").dependsOn), [
                "cluster2-istiod",
                "cluster2/in/cluster1",
                "smoke-test-cluster2-namespace",
            ]);
            assert.deepEqual(
                names(get("smoke-test-cluster2-curl").dependsOn),
                names(get("smoke-test-cluster2-helloworld-v2").dependsOn),
            );
        });

        it("each Job waits for both versions, the gateways and the remote secrets: nothing starts it early", () => {
            assert.deepEqual(names(get("smoke-test-cluster1-job").dependsOn), [
                "cluster1-cross-network-gateway",
                "cluster1-eastwestgateway",
                "cluster1-istiod",
                "cluster1-istiod-gateway",
                "cluster1-istiod-vs",
                "cluster2-eastwestgateway",
                "cluster2-reader-token",
                "cluster2/in/cluster1",
                "smoke-test-cluster1-helloworld",
                "smoke-test-cluster1-helloworld-v1",
                "smoke-test-cluster1-namespace",
                "smoke-test-cluster2-helloworld-v2",
            ]);
            const job = plainInputs(get("smoke-test-cluster2-job"));
            assert.deepEqual(job.metadata, {
                name: smokeJobName,
                namespace: "smoke-test",
                labels: { app: "smoke-test" },
            });
        });

        it("is absent when the stack does not enable it", async () => {
            const off = await plan(
                stackConfig(mesh(), [
                    primary("c1", "n1", { eastWest: { address: "192.0.2.1" } }),
                    remote("c2", "c1", "n2"),
                ]),
            );
            assert.deepEqual(
                off.resources.filter((r) => r.name.startsWith("smoke-test")),
                [],
            );
        });
    });
});
