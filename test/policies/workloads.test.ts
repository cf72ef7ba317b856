import * as assert from "node:assert/strict";
import { isPinnedImage, workloadImagesPinned } from "../../policies/workloads";
import { smokeImages } from "../../stacks/smokeTest";
import { FakeResource, runResource, unknown } from "./harness";

const job = (containers: unknown, initContainers?: unknown): FakeResource => ({
    type: "kubernetes:batch/v1:Job",
    name: "c1-job",
    cluster: "c1",
    props: { spec: { template: { spec: { containers, ...(initContainers ? { initContainers } : {}) } } } },
});

describe("workload-images-pinned", () => {
    it("passes images pinned by digest or exact tag (the smoke test's own)", async () => {
        const out = await runResource(
            workloadImagesPinned,
            job([
                { name: "a", image: smokeImages.curl },
                { name: "b", image: smokeImages.helloworldV1 },
                { name: "c", image: "registry.example.com:5000/team/app:2.4.1" },
            ]),
        );
        assert.deepEqual(out, { messages: [], urns: [], couldNotRun: false });
    });

    it("reports latest, no tag, a registry port mistaken for a tag, and no image at all", async () => {
        const out = await runResource(
            workloadImagesPinned,
            job(
                [
                    { name: "a", image: "curlimages/curl:latest" },
                    { name: "b", image: "curlimages/curl" },
                    { name: "c", image: "registry.example.com:5000/team/app" },
                    { name: "d" },
                ],
                [{ name: "init", image: "busybox" }],
            ),
        );
        const tail = "; pin it by digest (image@sha256:...) or an exact version tag, never latest";
        assert.deepEqual(out.messages, [
            `Job c1-job: container init runs "busybox"${tail}`,
            `Job c1-job: container a runs "curlimages/curl:latest"${tail}`,
            `Job c1-job: container b runs "curlimages/curl"${tail}`,
            `Job c1-job: container c runs "registry.example.com:5000/team/app"${tail}`,
            `Job c1-job: container d runs no image${tail}`,
        ]);
    });

    it("skips values unknown at preview, and resources that are not workloads", async () => {
        assert.deepEqual((await runResource(workloadImagesPinned, job(unknown))).messages, []);
        assert.deepEqual(
            (await runResource(workloadImagesPinned, job([{ name: "a", image: unknown }]))).messages,
            [],
        );
        const service: FakeResource = { type: "kubernetes:core/v1:Service", name: "s", props: { spec: {} } };
        assert.deepEqual((await runResource(workloadImagesPinned, service)).messages, []);
    });

    it("isPinnedImage reads the tag after the last path segment", () => {
        assert.deepEqual(
            [
                "a:1",
                "a@sha256:" + "0".repeat(64),
                "a",
                "a:latest",
                "h:5000/a",
                "h:5000/a:1.2",
                "a@sha256:123",
            ].map(isPinnedImage),
            [true, true, false, false, false, true, false],
        );
    });
});
