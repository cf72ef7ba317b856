/**
 * Istio's charts for stacks that cannot reach Istio's repository (the engine tier, the demo offline): the
 * charts of `../shared/reference/istio-<version>/charts`, as released. Those are Istio's source-tree charts,
 * whose image defaults are the development build's (`registry.istio.io/testing`, tag `latest`); Istio's
 * release build stamps the published charts with `docker.io/istio` and the release's tag. The copy here
 * gets the same two values, so the Deployments name the images a user's install would (and `npm run verify`
 * checks them as it would there). Nothing else is changed.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { repoRoot } from "../planner";

/** Where the reference charts of a version are, or undefined when ../shared is not beside the repository. */
export function referenceCharts(version: string): string | undefined {
    const dir = path.resolve(repoRoot, "..", "shared", "reference", `istio-${version}`, "charts");
    return fs.existsSync(path.join(dir, "istiod", "Chart.yaml")) ? dir : undefined;
}

/** Copies the reference charts of `version` into `into`, stamped as released; returns the directory. */
export function releasedCharts(version: string, into: string): string {
    const source = referenceCharts(version);
    if (!source) {
        throw new Error(
            `no Istio ${version} charts at ../shared/reference/istio-${version}/charts; set mesh.istio.charts ` +
                `to a mirror or a directory with base/, istiod/ and gateway/`,
        );
    }
    const target = path.join(into, `istio-${version}`);
    fs.rmSync(target, { recursive: true, force: true });
    fs.cpSync(source, target, { recursive: true });
    const values = path.join(target, "istiod", "values.yaml");
    const text = fs.readFileSync(values, "utf8");
    const stamped = text
        .replace(/^(\s+hub: )registry\.istio\.io\/testing$/m, "$1docker.io/istio")
        .replace(/^(\s+tag: )latest$/m, `$1${version}`);
    if (stamped === text) throw new Error(`${values}: found no development hub and tag to stamp`);
    fs.writeFileSync(values, stamped);
    return target;
}
