/**
 * Each cluster's revisions and tags as its API server holds them: an injection webhook per istiod revision
 * (`istio-sidecar-injector-<rev>`, rendered in either profile) and a webhook per revision tag
 * (`istio-revision-tag-<tag>`, labelled `istio.io/tag` and `istio.io/rev`), against what `mesh.istio` says.
 * Between the steps of an upgrade (README, "Upgrading Istio") this is what to read before the next `up`.
 */
import { ClusterSpec, IstioSettings } from "../../stacks/core";
import { controlPlaneRevisions } from "../../stacks/revisions";
import { Kube } from "./kube";
import { Meta, Results } from "./results";

const hooks = "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations";

/** `1-29-6 (default), 1-30-3 (canary)`: revisions in order, each with its tags. */
export function describeRevisions(revisions: ReadonlyMap<string, readonly string[]>): string {
    return (
        [...revisions]
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([rev, tags]) => (tags.length > 0 ? `${rev} (${[...tags].sort().join(", ")})` : rev))
            .join(", ") || "none"
    );
}

/** What the config says the cluster runs: revision ("default" for none) → its tags. */
export function expectedRevisions(istio: IstioSettings): Map<string, readonly string[]> {
    return new Map(controlPlaneRevisions(istio).map((r) => [r.name ?? "default", r.tags]));
}

export async function checkRevisions(
    cluster: ClusterSpec,
    istio: IstioSettings,
    kube: Kube,
    r: Results,
): Promise<void> {
    const want = expectedRevisions(istio);
    const expected = `revisions ${describeRevisions(want)}`;
    const hint =
        "run `pulumi up` (it installs every revision of `mesh.istio` and puts each tag on its revision); " +
        `\`kubectl get mutatingwebhookconfigurations -l istio.io/tag\` shows the tags of ${cluster.name}`;
    await r.guard("revisions", expected, hint, async () => {
        const list = await kube.get<{ items?: Meta[] }>(hooks);
        const found = new Map<string, string[]>();
        for (const h of list?.items ?? []) {
            const name = h.metadata?.name ?? "";
            const labels = h.metadata?.labels ?? {};
            if (name === "istio-sidecar-injector" || name.startsWith("istio-sidecar-injector-")) {
                const rev = labels["istio.io/rev"] ?? "default";
                if (!found.has(rev)) found.set(rev, []);
            }
        }
        for (const h of list?.items ?? []) {
            const labels = h.metadata?.labels ?? {};
            const tag = labels["istio.io/tag"];
            if (!h.metadata?.name?.startsWith("istio-revision-tag-") || tag === undefined) continue;
            const rev = labels["istio.io/rev"] ?? "default";
            found.set(rev, [...(found.get(rev) ?? []), tag]);
        }
        const text = describeRevisions(found);
        r.check("revisions", text === describeRevisions(want), expected, `revisions ${text}`, hint);
    });
}
