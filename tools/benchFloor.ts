/**
 * The bench's floor: what `@pulumi/pulumi` alone needs to register a plan's resources. From a plan document
 * (`npm run plan -- --json`) it derives the shape (every resource's type, name, parent, provider, dependency
 * edges and inputs as the plan shows them) and registers exactly that, with plain `CustomResource`,
 * `ComponentResource` and `ProviderResource` objects, under the planner's own mocks in preview mode. No
 * topology, no validation, no chart values, no policies, no output: the cost the SDK sets for that many
 * resources and edges, which the plan cannot go below by doing less of its own work.
 *
 * `node --import tsx tools/benchFloor.ts <shape.json>` runs one floor; the bench times the whole process.
 */
import * as fs from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import * as runtimeStack from "@pulumi/pulumi/runtime/stack";
import { mocksFor } from "./planner";
import { dropStackTraces } from "./stackTraces";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const runtimeSettings = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> };

/** One resource of the shape; references are indices into the shape's list (registration order). */
export interface FloorResource {
    readonly type: string;
    readonly name: string;
    /** The parent's index; -1 for a child of the stack. */
    readonly parent: number;
    /** The Kubernetes provider's index; -1 for none. */
    readonly provider: number;
    /** Every resource this one waits for. */
    readonly dependsOn: readonly number[];
    readonly custom: boolean;
    /** For a read, the ID read. */
    readonly read?: string;
    readonly inputs: Record<string, unknown>;
}

/** The plan document fields the floor reads. */
export interface PlanDocLike {
    readonly resources: readonly {
        readonly urn: string;
        readonly type: string;
        readonly name: string;
        readonly parent: string | null;
        readonly cluster: string | null;
        readonly dependsOn: readonly string[];
        readonly inputs: Record<string, unknown>;
        readonly read?: string;
    }[];
}

/** Whether a plan document's resource is a component (the stack, or one of the project's components). */
export const isComponentType = (type: string): boolean =>
    type === "pulumi:pulumi:Stack" || type.startsWith("multicluster:");

/**
 * The floor's shape of a plan document: every resource but the stack, ordered so that each comes after its
 * parent, its provider and everything it depends on. Edges to the stack are dropped (the stack is implicit).
 */
export function floorShape(doc: PlanDocLike): FloorResource[] {
    const byUrn = new Map(doc.resources.map((r) => [r.urn, r]));
    const providerUrn = new Map(
        doc.resources.filter((r) => r.type === "pulumi:providers:kubernetes").map((r) => [r.name, r.urn]),
    );
    const stack = doc.resources.find((r) => r.type === "pulumi:pulumi:Stack")?.urn;
    const index = new Map<string, number>();
    const out: FloorResource[] = [];
    const visiting = new Set<string>();
    const ref = (urn: string | null | undefined): number => {
        if (!urn || urn === stack || !byUrn.has(urn)) return -1;
        visit(urn);
        return index.get(urn)!;
    };
    const visit = (urn: string): void => {
        if (index.has(urn)) return;
        if (visiting.has(urn)) throw new Error(`dependency cycle through ${urn}`);
        visiting.add(urn);
        const r = byUrn.get(urn)!;
        const parent = ref(r.parent);
        const provider =
            r.type === "pulumi:providers:kubernetes" || r.cluster === null
                ? -1
                : ref(providerUrn.get(r.cluster));
        const dependsOn = r.dependsOn.map(ref).filter((i) => i >= 0);
        visiting.delete(urn);
        index.set(urn, out.length);
        out.push({
            type: r.type,
            name: r.name,
            parent,
            provider,
            dependsOn,
            custom: !isComponentType(r.type),
            ...(r.read !== undefined ? { read: r.read } : {}),
            inputs: r.inputs,
        });
    };
    for (const r of doc.resources) if (r.urn !== stack) visit(r.urn);
    return out;
}

/** A component that, as every component of the program does, registers its outputs last. */
class FloorComponent extends pulumi.ComponentResource {
    constructor(type: string, name: string, opts: pulumi.ComponentResourceOptions) {
        super(type, name, {}, opts);
        this.registerOutputs({});
    }
}
class FloorProvider extends pulumi.ProviderResource {}
class FloorCustom extends pulumi.CustomResource {}

/** Registers the shape: to be called inside the stack, under mocks. */
export function registerShape(shape: readonly FloorResource[]): void {
    const made: pulumi.Resource[] = [];
    for (const r of shape) {
        const parent = r.parent >= 0 ? made[r.parent] : undefined;
        const provider = r.provider >= 0 ? (made[r.provider] as pulumi.ProviderResource) : undefined;
        const dependsOn = r.dependsOn.map((i) => made[i]!);
        const opts: pulumi.CustomResourceOptions = {
            ...(parent ? { parent } : {}),
            ...(provider ? { provider } : {}),
            ...(dependsOn.length ? { dependsOn } : {}),
            ...(r.read !== undefined ? { id: r.read } : {}),
        };
        if (!r.custom) made.push(new FloorComponent(r.type, r.name, opts));
        else if (r.type.startsWith("pulumi:providers:")) {
            made.push(new FloorProvider(r.type.slice("pulumi:providers:".length), r.name, r.inputs, opts));
        } else made.push(new FloorCustom(r.type, r.name, r.inputs, opts));
    }
}

/** Runs the floor for a shape: the stack, every resource, and waiting until the mock monitor answered all. */
export async function runFloor(
    shape: readonly FloorResource[],
    project: string,
    stack: string,
): Promise<void> {
    await pulumi.runtime.setMocks(mocksFor({}), project, stack, true);
    await runtimeStack.runInPulumiStack(() => {
        registerShape(shape);
        return Promise.resolve({});
    });
    await runtimeSettings.waitForRPCs();
}

if (require.main === module) {
    const file = process.argv[2];
    if (!file) {
        process.stderr.write("usage: node --import tsx tools/benchFloor.ts <shape.json> [--like-plan]\n");
        process.exit(1);
    }
    // The SDK's defaults unless asked to run as the plan process does (no stack traces, no source maps).
    if (process.argv[3] === "--like-plan") dropStackTraces();
    const started = process.hrtime.bigint();
    const shape = JSON.parse(fs.readFileSync(file, "utf8")) as FloorResource[];
    // Reading the shape is the bench's doing, not the SDK's: reported so the bench can take it out.
    const readMillis = Number(process.hrtime.bigint() - started) / 1e6;
    runFloor(shape, "istio-multicluster", "floor").then(
        () => {
            process.stdout.write(JSON.stringify({ resources: shape.length, readMillis }) + "\n");
            process.exit(0);
        },
        (e: unknown) => {
            process.stderr.write(`floor failed: ${e instanceof Error ? e.message : String(e)}\n`);
            process.exit(1);
        },
    );
}
